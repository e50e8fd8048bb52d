"""Whether an instance address the end user entered is on their private network, and so is
reached through an agent (for a system installed on-premises), or plainly refused.

Plausible private instances: https, an address in a private range (RFC 1918, CG-NAT, unique
local IPv6) or a host name that is not this machine's (``erp.acme.local``, ``sap.corp``).
Never: loopback, link-local (the metadata services), multicast, reserved and documentation
ranges, ``localhost``. A name counts as private when no public DNS answer exists for it.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from connections.outbound.addresses import is_public_address

PRIVATE_RANGES = tuple(
    ipaddress.ip_network(prefix)
    for prefix in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
NEVER = ("localhost",)


def plausible_private_instance(url: str) -> bool:
    """An https address that may be a system on the customer's own network."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme != "https" or not host or "@" in parts.netloc or len(host) > 253:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        valid = all(label and label.replace("-", "").isalnum() for label in labels)
        return valid and labels[-1] not in NEVER and not host.replace(".", "").isdigit()
    return any(address in network for network in PRIVATE_RANGES)


def needs_agent(url: str) -> bool:
    """A plausible private instance that the internet cannot reach: a private address, or a
    name without a public address in DNS (as seen from Onramp)."""
    if not plausible_private_instance(url):
        return False
    host = (urlsplit(url).hostname or "").rstrip(".")
    try:
        return not is_public_address(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True  # not known publicly: only the customer's own DNS knows it
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in found}
    return not any(is_public_address(address) for address in addresses)
