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
    connection_is_new: bool = False,
) -> Event:
    """Write one audit row. ``data`` must never hold a secret: ids, codes, names only.

    ``kind`` must be an ``EventKind`` (a string that is none raises ``ValueError``). Kinds
    partners subscribe to also get their webhook deliveries, in the same transaction, and
    when they are about a connection, that connection's next ``sequence`` — 1 without a read
    when ``connection_is_new`` (made in this very transaction: nobody else sees it yet).
    Inside a caller's transaction it takes no savepoint: an error here undoes the caller's
    change too, as the audit rule wants.
    """
    kind = EventKind(kind)
    with transaction.atomic(savepoint=False):
        event = Event.objects.create(
            partner=partner,
            kind=kind,
            actor=actor[:200],
            connection=connection,
            link_session=link_session,
            data=data or {},
            sequence=_sequence(connection, kind, connection_is_new),
        )
        deliveries_create(event)
    return event


def _sequence(
    connection: Connection | None, kind: EventKind, connection_is_new: bool
) -> int | None:
    if connection is None or not kind.webhook:
        return None
    return 1 if connection_is_new else sequence_next(connection)
