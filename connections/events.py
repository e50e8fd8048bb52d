"""Onramp's one event vocabulary: every kind of audit event, which of them partners receive
as webhooks, and what each webhook's payload may carry beyond the common fields.

Services write events with ``event_record(kind=EventKind.…)``; the webhook API, its filters
and the admin read this enum, so a kind nobody declared cannot be written or subscribed to.

Every webhook's ``data`` carries the common fields (``outbox.py``): ``link_session_id``, and
for a connection's events ``connection_id``, ``end_user_id``, ``system``, ``status``,
``mode`` and ``sequence`` — that connection's own counter, increasing with each event about
it in the order they were committed, for receivers to put deliveries back in order (a gap is an
event the endpoint does not subscribe to); for a link session's, ``end_user_id``,
``system`` and ``mode``. ``payload_keys`` below are what a kind carries beyond those.

To add a kind: add a member here (``"entity.happened"``, then ``webhook=True`` and its
payload keys if partners receive it), record it from the service that makes the change, and
for a webhook kind add a row to the README's events table (a test checks the table).
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    webhook: bool
    payload_keys: tuple[str, ...]

    def __new__(cls, value: str, webhook: bool = False, payload_keys: tuple[str, ...] = ()):
        member = str.__new__(cls, value)
        member._value_ = value
        member.webhook = webhook
        member.payload_keys = payload_keys
        return member

    # Connections (partners receive what happens to them)
    CONNECTION_CREATED = "connection.created", True
    CONNECTION_RECONNECTED = "connection.reconnected", True
    CONNECTION_INVALID = "connection.invalid", True, ("error",)
    CONNECTION_RESTORED = "connection.restored", True
    CONNECTION_REVOKED = "connection.revoked", True
    # Its on-premises agent went away beyond the grace period / came back (or was revoked).
    CONNECTION_AGENT_OFFLINE = "connection.agent_offline", True, ("agent_id",)
    CONNECTION_AGENT_ONLINE = "connection.agent_online", True, ("agent_id",)
    CONNECTION_REVALIDATION_REQUESTED = "connection.revalidation_requested"
    CONNECTION_REFRESH_INTERRUPTED = "connection.refresh_interrupted"
    CONNECTION_TOKEN_CREATED = "connection_token.created"
    CONNECTION_TOKEN_ROTATED = "connection_token.rotated"
    # Syncs (``sync.completed``: pass ``modified_after`` to the list API for what changed)
    SYNC_REQUESTED = "sync.requested"
    SYNC_COMPLETED = (
        "sync.completed",
        True,
        ("model", "mode", "added", "updated", "deleted", "failed", "modified_after"),
    )
    SYNC_FAILED = "sync.failed", True, ("model", "mode", "error")
    # Link sessions
    LINK_SESSION_CREATED = "link_session.created"
    LINK_SESSION_EXITED = "link_session.exited", True, ("screen",)
    LINK_SESSION_COMPLETED = "link_session.completed"
    LINK_SESSION_LOCKED = "link_session.locked"
    LINK_SESSION_EXTENDED = "link_session.extended"
    LINK_SESSION_UNLOCKED = "link_session.unlocked"
    LINK_SESSION_CANCELLED = "link_session.cancelled"
    SIGNING_KEY_GENERATED = "signing_key.generated"
    SIGNING_KEY_UPLOADED = "signing_key.uploaded"
    CREDENTIAL_FILE_UPLOADED = "credential_file.uploaded"
    CATALOG_SYSTEM_REQUESTED = "catalog.system_requested", True, ("name", "query")
    # On-premises agents
    AGENT_PAIRED = "agent.paired"
    AGENT_REVOKED = "agent.revoked"
    # Partners, their keys and settings
    PARTNER_CREATED = "partner.created"
    PARTNER_UPDATED = "partner.updated"
    PARTNER_KEY_CREATED = "partner_key.created"
    PARTNER_KEY_REVOKED = "partner_key.revoked"
    PARTNER_KEY_ROLLED = "partner_key.rolled"
    OAUTH_APP_SET = "oauth_app.set"
    # Webhooks themselves (``webhook.test`` goes only to the endpoint being tested)
    WEBHOOK_TEST = "webhook.test", True
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
    WEBHOOK_ENDPOINT_SECRET_ROTATED = "webhook_endpoint.secret_rotated"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
    WEBHOOK_ENDPOINT_ENABLED = "webhook_endpoint.enabled"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    WEBHOOK_DELIVERY_RESENT = "webhook_delivery.resent"


def webhook_kinds() -> list[EventKind]:
    """What partners can subscribe to, in declaration order."""
    return [kind for kind in EventKind if kind.webhook]
