"""Sending a connection's calls through its agent: what the outbound client needs.

A caller that works for an agent-bound connection (a live check, a health check, a proxied
call) runs inside ``agent_routed(route)``; the outbound client then sends a request for the
route's host and port through the hub's CONNECT proxy, with a ``Proxy-Authorization`` that
Onramp signs for that agent and that host:port only (``route_token``). TLS runs end to end
from here to the customer's system: the hub and the agent relay ciphertext. The instance's
certificate is verified by the fingerprint the end user confirmed (``fingerprint``), or by
the usual CAs when none was pinned. A request for any other host keeps every rule of
``outbound/addresses.py``: a direct call to a private address stays refused.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core import signing

ROUTE_SALT = "onramp.agents.route"
ROUTE_TOKEN_MAX_AGE = 120  # seconds: signed for each request, used at once


@dataclass(frozen=True)
class AgentRoute:
    agent_id: str
    host: str
    port: int
    fingerprint: str  # SHA-256 of the instance's certificate, hex; '' = CA verification
    hub: str  # the hub's internal proxy address, host:port

    def carries(self, host: str, port: int) -> bool:
        return host == self.host and port == self.port

    def proxy_url(self) -> str:
        return f"http://{self.hub}"

    def token(self) -> str:
        return route_token(self.agent_id, self.host, self.port)


def route_token(agent_id: str, host: str, port: int) -> str:
    """What the hub accepts as a CONNECT's ``Proxy-Authorization`` for this agent and target."""
    return signing.dumps({"agent": agent_id, "target": f"{host}:{port}"}, salt=ROUTE_SALT)


def route_token_claims(token: str) -> dict[str, str] | None:
    """The agent and target a route token names, or None if it is forged or too old."""
    try:
        claims = signing.loads(token, salt=ROUTE_SALT, max_age=ROUTE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return claims if isinstance(claims, dict) else None


_current: contextvars.ContextVar[AgentRoute | None] = contextvars.ContextVar(
    "onramp_agent_route", default=None
)


@contextmanager
def agent_routed(route: AgentRoute | None) -> Iterator[None]:
    """Outbound clients made inside send requests for ``route``'s target through its agent
    (``None``: no agent, every call direct)."""
    reset = _current.set(route)
    try:
        yield
    finally:
        _current.reset(reset)


def current_route() -> AgentRoute | None:
    return _current.get()
