"""On-premises agents in the operators' admin: who they belong to, what they reach, whether
they are there; revoking one (``operate``). The token is a digest and is never shown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from connections.admin.base import OperatorAdmin, actor_of
from connections.agents.models import Agent
from connections.agents.presence import agent_revoke


@admin.register(Agent)
class AgentAdmin(OperatorAdmin):
    list_display = ["id", "partner", "end_user_id", "name", "status", "last_seen_at"]
    list_filter = ["status", "mode"]
    search_fields = ["id", "end_user_id", "name"]
    readonly_fields = [
        "id",
        "partner",
        "mode",
        "end_user_id",
        "name",
        "targets",
        "status",
        "hub",
        "last_seen_at",
        "created_at",
        "revoked_at",
    ]
    exclude = ["token_digest"]
    actions = ["revoke"]
    buttons = {"revoke": ("Revoke", "The agent can no longer connect; its connections stop.")}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # agents are made by pairing only

    @admin.action(description="Revoke selected agents", permissions=["operate"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        for agent in queryset:
            agent_revoke(agent=agent, actor=actor_of(request))
        self.message_user(
            request, "Revoked; these agents can no longer connect.", messages.SUCCESS
        )
