"""The outbound host map: an explicit override of where a host's traffic goes.

``ONRAMP_OUTBOUND_HOST_MAP`` is ``pattern=target,pattern=target`` (``*.suitetalk.api.netsuite.com=
http://127.0.0.1:9101``): like a DNS override, it sends a system's requests to a local
simulator (tests, the demo's Sandbox ERP). The settings refuse it in production unless
``ONRAMP_ALLOW_HOST_MAP`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.signals import setting_changed


@dataclass(frozen=True)
class HostRoute:
    """One entry of the host map: requests for ``pattern`` go to ``target`` instead."""

    pattern: str
    target: SplitResult

    def matches(self, host: str) -> bool:
        if self.pattern == "*":  # every host (a test's catch-all simulator)
            return True
        if self.pattern.startswith("*."):
            return host.endswith(self.pattern[1:])
        return host == self.pattern


def parse_host_map(spec: str) -> tuple[HostRoute, ...]:
    """Parse ``pattern=target,pattern=target``; raise ``ValueError`` on a bad entry."""
    routes = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        pattern, _, target = item.partition("=")
        parsed = urlsplit(target.strip())
        if not pattern.strip() or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"Bad ONRAMP_OUTBOUND_HOST_MAP entry: {item!r}")
        routes.append(HostRoute(pattern=pattern.strip().lower(), target=parsed))
    return tuple(routes)


@cache
def host_map() -> tuple[HostRoute, ...]:
    return parse_host_map(settings.ONRAMP_OUTBOUND_HOST_MAP)


def _reset_host_map(*, setting: str, **kwargs: Any) -> None:
    if setting == "ONRAMP_OUTBOUND_HOST_MAP":
        host_map.cache_clear()


setting_changed.connect(_reset_host_map)
