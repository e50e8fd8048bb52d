"""Which addresses and host names Onramp may connect to (SECURITY.md rule 3).

Public unicast only. ``NOT_GLOBAL`` lists every prefix of the IANA IPv4 and IPv6
Special-Purpose Address Registries that is not globally reachable, plus the forms that embed,
map or translate IPv4 (and so can reach any IPv4 address through a translator), multicast,
and the cloud metadata addresses. The table is ours rather than ``ipaddress.is_global``,
whose answers change between Python releases (``::ffff:0:0:0/96`` counts as global in 3.11).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

import idna

from connections.outbound.errors import OutboundError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

NOT_GLOBAL = tuple(
    ipaddress.ip_network(prefix)
    for prefix in (
        # IPv4 Special-Purpose Address Registry (RFC 6890 and updates)
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (CG-NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local (and the metadata service)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments, DS-Lite, NAT64 discovery
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast address
        "100.100.100.200/32",  # Alibaba Cloud metadata (inside CG-NAT, listed for clarity)
        # IPv6 Special-Purpose Address Registry (RFC 6890 and updates)
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::/96",  # IPv4-compatible (deprecated)
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b::/96",  # IPv4/IPv6 translation (NAT64)
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy prefix
        "2001::/23",  # IETF protocol assignments (Teredo, benchmarking, ORCHID…)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing (SRv6) SIDs
        "fc00::/7",  # unique local (and fd00:ec2::254, the AWS metadata service)
        "fe80::/10",  # link local
        "fec0::/10",  # site local (deprecated)
        "ff00::/8",  # multicast
    )
)

# Names that never mean a public host, whatever a resolver says (RFC 6761, 6762, 8375, 9476).
SPECIAL_NAMES = ("localhost", "local", "internal", "localdomain", "home.arpa", "onion", "arpa")


def is_public_address(address: Address) -> bool:
    """Globally reachable unicast: in no special-purpose, translating or multicast range."""
    return not any(address in network for network in NOT_GLOBAL)


class RefusedHost(ValueError):
    """A host name the policy refuses before any lookup."""


def canonical_host(host: str) -> str:
    """The host as DNS will see it: IDNA (UTS #46) mapped, lower case, no trailing dot.

    ``ⓛⓞⓒⓐⓛⓗⓞⓢⓣ`` and ``localhost。`` become ``localhost``, so the policy sees them for
    what they are. Raises ``RefusedHost`` for names that cannot be public.
    """
    ascii_host = host
    if not host.isascii():
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise RefusedHost("not a valid host name") from None
    ascii_host = ascii_host.rstrip(".").lower()
    if not ascii_host:
        raise RefusedHost("empty host name")
    if any(ascii_host == name or ascii_host.endswith("." + name) for name in SPECIAL_NAMES):
        raise RefusedHost("a local or reserved name")
    return ascii_host


MAX_URL_LENGTH = 2048
LOCAL_NAMES = ("localhost",)


def is_local_url(url: str) -> bool:
    """An http(s) URL of this machine itself: ``localhost`` or a loopback literal
    (``127.0.0.0/8``, ``[::1]``), without user info. Never sent to unless a caller allows it
    (a test endpoint's webhooks while ``ONRAMP_ALLOW_LOCAL_WEBHOOKS`` is on)."""
    try:
        parts = urlsplit(url)
        port_valid = parts.port != 0  # reading it raises on a port that is not a number
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or len(url) > MAX_URL_LENGTH:
        return False
    if not port_valid or any(c in host for c in "%\\ "):
        return False
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> SplitResult:
    """Refuse what can never be sent: a non-https scheme, userinfo, a non-public IP literal,
    a local or reserved name. Returns the URL's parts with the host in its canonical form."""
    if len(url) > MAX_URL_LENGTH:
        raise OutboundError("invalid_url", "The address is too long.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError("invalid_url", "The address is not a valid URL.") from None
    host = parts.hostname or ""
    if parts.scheme != "https":
        raise OutboundError("invalid_url", "Only https:// addresses can be used.")
    if not host or "@" in parts.netloc or any(c in host for c in "%\\ "):
        raise OutboundError("invalid_url", "The address has no valid host name.")
    if port == 0:
        raise OutboundError("invalid_url", "The address has an invalid port.")
    host = _checked_host(host)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return parts._replace(netloc=netloc)


def _checked_host(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if not is_public_address(address):
            raise OutboundError("forbidden_address", "This address is not allowed.")
        return str(address)
    try:
        host = canonical_host(host)
    except RefusedHost:
        raise OutboundError("forbidden_address", "This address is not allowed.") from None
    if host.replace(".", "").isdigit() or host.startswith("0x"):
        # Numeric forms like 2130706433 or 0x7f.1 resolve to private addresses.
        raise OutboundError("forbidden_address", "This address is not allowed.")
    return host
