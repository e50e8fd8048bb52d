"""Partner API for on-premises agents (``/agents``): list a customer's agents, revoke one.
Mounted on ``api.py``'s API; the same errors and auth; each key sees its own mode's agents."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from connections.agents.models import Agent
from connections.agents.presence import agent_revoke
from connections.api.auth import own

router = Router(tags=["agents"])


def _agent(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "end_user_id": agent.end_user_id,
        "name": agent.name,
        "status": agent.status,
        "targets": [{"host": t["host"], "port": t["port"]} for t in agent.targets],
        "last_seen_at": agent.last_seen_at,
        "created_at": agent.created_at,
        "revoked_at": agent.revoked_at,
    }


@router.get("/agents")
def list_agents(request: HttpRequest, end_user_id: str = "") -> dict[str, Any]:
    rows = Agent.objects.filter(partner=request.auth, mode=request.mode).order_by("created_at")
    if end_user_id:
        rows = rows.filter(end_user_id=end_user_id[:200])
    return {"data": [_agent(agent) for agent in rows[:500]]}


@router.delete("/agents/{agent_id}", response={204: None})
def revoke_agent(request: HttpRequest, agent_id: str) -> Status:
    """Final: the agent's token stops working and its hub drops it; its connections become
    ``agent_offline``."""
    agent_revoke(agent=own(Agent, request, agent_id), actor=request.actor)
    return Status(204, None)
