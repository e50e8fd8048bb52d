"""The audit trail: every state change writes one event, in its own transaction, and the
kinds partners receive become webhook deliveries there too (``outbox.py``)."""

from __future__ import annotations

from typing import Any

from connections.events import EventKind
from connections.models import Connection, Event, LinkSession, Partner
from connections.services.outbox import deliveries_create


def event_record(
    *,
    partner: Partner,
    kind: EventKind,
    actor: str,
    connection: Connection | None = None,
    link_session: LinkSession | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Write one audit row. ``data`` must never hold a secret: ids, codes, names only.

    ``kind`` must be an ``EventKind`` (a string that is none raises ``ValueError``). Kinds
    partners subscribe to also get their webhook deliveries, in the same transaction.
    """
    event = Event.objects.create(
        partner=partner,
        kind=EventKind(kind),
        actor=actor[:200],
        connection=connection,
        link_session=link_session,
        data=data or {},
    )
    deliveries_create(event)
    return event
