"""The audit trail: every state change writes one event, in its own transaction, and the
kinds partners receive become webhook deliveries there too (``outbox.py``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections.events import EventKind
from connections.models import Connection, Event, LinkSession, Partner
from connections.services.outbox import deliveries_create, sequence_next


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
    partners subscribe to also get their webhook deliveries, in the same transaction, and
    when they are about a connection, that connection's next ``sequence``.
    """
    kind = EventKind(kind)
    with transaction.atomic():
        event = Event.objects.create(
            partner=partner,
            kind=kind,
            actor=actor[:200],
            connection=connection,
            link_session=link_session,
            data=data or {},
            sequence=sequence_next(connection) if connection and kind.webhook else None,
        )
        deliveries_create(event)
    return event
