"""Agents and their one-time pairing codes.

Imported by ``connections/models.py`` (the app's models); refers to other models by name.
"""

from __future__ import annotations

import secrets
import string

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_ALPHABET = string.ascii_letters + string.digits


def new_agent_id() -> str:
    return "agt_" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def new_pairing_id() -> str:
    return "apr_" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


class AgentStatus(models.TextChoices):
    PAIRED = "paired", _("Paired, never connected")
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    REVOKED = "revoked", _("Revoked")


class Agent(models.Model):
    """One installed agent of one customer (a partner's end user): it reaches only
    ``targets`` (``[{"host", "port", "fingerprint"}]``, confirmed at pairing)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_agent_id, editable=False)
    partner = models.ForeignKey(
        "connections.Partner", on_delete=models.CASCADE, related_name="agents"
    )
    mode = models.CharField(max_length=4, default="live")
    end_user_id = models.CharField(max_length=200, db_index=True)
    name = models.CharField(max_length=120, blank=True)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    targets = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=AgentStatus.choices, default=AgentStatus.PAIRED, db_index=True
    )
    # The hub holding its control connection (its internal proxy address) and when it last
    # said the agent was there (one batched UPDATE per hub and heartbeat).
    hub = models.CharField(max_length=200, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "end_user_id"], name="agent_customer")]

    def __str__(self) -> str:
        return self.id

    def serves(self, host: str, port: int) -> bool:
        return any(t["host"] == host and int(t["port"]) == port for t in self.targets)

    def fingerprint_for(self, host: str, port: int) -> str:
        found = (t for t in self.targets if t["host"] == host and int(t["port"]) == port)
        return next((t.get("fingerprint", "") for t in found), "")


class AgentPairing(models.Model):
    """A one-time code shown in one link session, for the instance the end user entered.

    The details submitted with it wait here (credentials sealed) until the agent is paired
    and the end user confirms the certificate; then the usual check starts with them."""

    id = models.CharField(primary_key=True, max_length=32, default=new_pairing_id, editable=False)
    link_session = models.ForeignKey(
        "connections.LinkSession", on_delete=models.CASCADE, related_name="agent_pairings"
    )
    code_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The code itself, sealed: shown again on the screen (and in the hand-off) until used.
    code_sealed = models.TextField(blank=True, editable=False)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    system_slug = models.CharField(max_length=63)
    method = models.CharField(max_length=63)
    config = models.JSONField(default=dict, blank=True)
    credentials = models.TextField(blank=True, editable=False)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairings"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    encrypted_fields = ("credentials", "code_sealed")

    def __str__(self) -> str:
        return self.id

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
