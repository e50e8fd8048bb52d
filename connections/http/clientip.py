"""The client's IP address for rate limits and lockouts, behind trusted proxies only.

``ONRAMP_TRUSTED_PROXIES`` is either a number of proxy hops in front of Onramp (``1`` for one
load balancer) or a list of the proxies' networks (``10.0.0.0/8,fd00::/8``). Without it,
``X-Forwarded-For`` is ignored: anyone can send that header.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def trusted_proxies() -> int | tuple[Network, ...]:
    """Hops to trust, or the trusted networks (parsed once from the setting)."""
    spec = str(settings.ONRAMP_TRUSTED_PROXIES).strip()
    if not spec:
        return 0
    if spec.isdigit():
        return int(spec)
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in spec.split(",") if part)
    except ValueError as exc:
        raise ImproperlyConfigured(f"ONRAMP_TRUSTED_PROXIES: {exc}") from None


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "ONRAMP_TRUSTED_PROXIES":
        trusted_proxies.cache_clear()


setting_changed.connect(_reset)


def client_ip(request: HttpRequest) -> str:
    """The address of whoever made the request, as far as trusted proxies vouch for it."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = trusted_proxies()
    if not trusted:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [_address(part) for part in forwarded.split(",")] + [_address(remote)]
    if isinstance(trusted, int):
        candidates = chain[-(trusted + 1) :]
        return next((str(a) for a in candidates if a is not None), remote)
    return _first_untrusted(chain, trusted) or remote


def _first_untrusted(chain: list[Any], networks: tuple[Network, ...]) -> str:
    for address in reversed(chain):
        if address is None:
            return ""
        if not any(address in network for network in networks):
            return str(address)
    return ""


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None
