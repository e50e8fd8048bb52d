"""Whether an agent is there, as its hub tells, and revoking one.

A hub writes ``agent_connected`` when an agent's control connection opens, ``agents_seen``
for all of its agents in one UPDATE per heartbeat, and ``agent_disconnected`` once a closed
control connection stayed closed for ``ONRAMP_AGENT_GRACE`` seconds. An agent gone makes its
connections ``agent_offline`` (not ``invalid``: the customer's credentials are fine), an agent
back makes them ``active`` again, each with its webhook.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.agents.models import Agent, AgentStatus
from connections.events import EventKind
from connections.models import Connection, ConnectionStatus
from connections.security import token_cache
from connections.services.audit import event_record


@transaction.atomic
def agent_connected(*, agent_id: str, hub: str) -> bool:
    """The agent opened its control connection on ``hub``; False if it may not (revoked)."""
    agent = Agent.objects.select_for_update().filter(pk=agent_id, revoked_at=None).first()
    if agent is None:
        return False
    agent.status, agent.hub, agent.last_seen_at = AgentStatus.ONLINE, hub, timezone.now()
    agent.save(update_fields=["status", "hub", "last_seen_at"])
    _connections_move(agent, ConnectionStatus.AGENT_OFFLINE, ConnectionStatus.ACTIVE)
    return True


def agents_seen(*, agent_ids: list[str], hub: str) -> list[str]:
    """A hub's heartbeat: its agents are still there (one UPDATE whatever their number).
    Returns those revoked meanwhile, for the hub to drop."""
    if not agent_ids:
        return []
    Agent.objects.filter(pk__in=agent_ids, hub=hub, revoked_at=None).update(
        last_seen_at=timezone.now(), status=AgentStatus.ONLINE
    )
    revoked = Agent.objects.filter(pk__in=agent_ids).exclude(revoked_at=None)
    return list(revoked.values_list("pk", flat=True))


@transaction.atomic
def agent_disconnected(*, agent_id: str, hub: str) -> None:
    """Its control connection to ``hub`` stayed closed beyond the grace period (unless it
    came back meanwhile, on this hub or another)."""
    agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
    if agent is None or agent.status != AgentStatus.ONLINE or agent.hub != hub:
        return
    agent.status = AgentStatus.OFFLINE
    agent.save(update_fields=["status"])
    _connections_move(agent, ConnectionStatus.ACTIVE, ConnectionStatus.AGENT_OFFLINE)


def agents_lost_sweep() -> int:
    """Agents whose hub stopped saying they are there (a hub that died): offline."""
    stale = timezone.now() - timedelta(seconds=settings.ONRAMP_AGENT_GRACE * 2)
    ids = Agent.objects.filter(status=AgentStatus.ONLINE, last_seen_at__lt=stale)
    count = 0
    for agent in ids.values_list("pk", "hub"):
        agent_disconnected(agent_id=agent[0], hub=agent[1])
        count += 1
    return count


@transaction.atomic
def agent_revoke(*, agent: Agent, actor: str) -> None:
    """Final: its token stops working, its hub drops it at the next heartbeat, and its
    connections are no longer routed through it (``agent_offline``)."""
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if agent.revoked_at is not None:
        return
    agent.revoked_at, agent.status = timezone.now(), AgentStatus.REVOKED
    agent.save(update_fields=["revoked_at", "status"])
    _connections_move(agent, ConnectionStatus.ACTIVE, ConnectionStatus.AGENT_OFFLINE)
    event_record(
        partner=agent.partner,
        kind=EventKind.AGENT_REVOKED,
        actor=actor,
        data={"agent_id": agent.id},
    )


def _connections_move(agent: Agent, before: str, after: str) -> None:
    kind = (
        EventKind.CONNECTION_AGENT_ONLINE
        if after == ConnectionStatus.ACTIVE
        else EventKind.CONNECTION_AGENT_OFFLINE
    )
    moved = Connection.objects.select_for_update().filter(agent=agent, status=before)
    for connection in moved.select_related("partner"):
        connection.status = after
        connection.save(update_fields=["status", "updated_at"])
        token_cache.forget_connection(connection.id)
        event_record(
            partner=connection.partner,
            kind=kind,
            actor=f"agent:{agent.id}",
            connection=connection,
            data={"agent_id": agent.id},
        )
