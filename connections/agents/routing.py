"""Which calls an agent carries: a flow's check through the agent its end user confirmed, a
stored connection's calls through its own agent (same partner, customer and mode, its own
instance's host and port). Reads only; the outbound client does the sending
(``outbound/agent_routes.py``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from catalog.registry import get_definition
from connections.agents.models import Agent, AgentPairing
from connections.models import Connection, LinkSession
from connections.outbound.agent_routes import AgentRoute
from connections.verification.run import build_target


def instance_target(base_url: str) -> tuple[str, int]:
    """The (host, port) an instance's base URL names."""
    parts = urlsplit(base_url)
    return (parts.hostname or "").rstrip(".").lower(), parts.port or 443


def _route(agent: Agent, host: str, port: int) -> AgentRoute | None:
    if agent.revoked_at is not None or not agent.serves(host, port):
        return None
    hub = agent.hub or settings.ONRAMP_AGENT_PROXY_LISTEN
    return AgentRoute(agent.id, host, port, agent.fingerprint_for(host, port), hub)


def _on_premises(system_slug: str) -> bool:
    definition = get_definition(system_slug)
    return bool(definition and definition.on_premises)


def agent_route_for_session(session: LinkSession, system_slug: str) -> AgentRoute | None:
    """The route of a flow's check of ``system_slug``: the agent the end user confirmed in
    this session (no query at all for a system not installed on-premises)."""
    if not _on_premises(system_slug):
        return None
    pairing = (
        AgentPairing.objects.filter(link_session=session, agent__isnull=False)
        .exclude(confirmed_at=None)
        .select_related("agent")
        .last()
    )
    if pairing is None or pairing.agent.partner_id != session.partner_id:
        return None
    return _route(pairing.agent, pairing.host, pairing.port)


def agent_route_for_connection(connection: Connection) -> AgentRoute | None:
    """The route of a stored connection: its own agent, of its own partner and customer,
    for its own instance's host and port; None for any other connection."""
    if connection.agent_id is None:
        return None
    agent = connection.agent
    if agent is None or agent.partner_id != connection.partner_id:
        return None
    if agent.end_user_id != connection.end_user_id or agent.mode != connection.mode:
        return None
    definition = get_definition(connection.system_id)
    method = definition.method(connection.method) if definition else None
    if method is None:
        return None
    host, port = instance_target(build_target(definition, method, connection.config).base_url)
    return _route(agent, host, port)


def agent_bind(*, session: LinkSession, connection: Connection) -> None:
    """A connection made through an agent keeps using it (called as it is activated)."""
    route = agent_route_for_session(session, connection.system_id)
    if route is not None:
        Connection.objects.filter(pk=connection.pk).update(agent_id=route.agent_id)
        connection.agent_id = route.agent_id
