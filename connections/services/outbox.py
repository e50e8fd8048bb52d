"""The outbox: an event partners receive becomes one webhook delivery per interested endpoint,
written in the transaction of the state change it reports and sent once that commits.

``event_record`` calls ``deliveries_create``; sending, retries and the sweep are in
``webhooks.py``. A delivery whose message is lost (broker down, worker killed) is still a row:
the sweeper sends it, so an event is never lost between the change and the partner.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from connections.dispatch import Task, task_send
from connections.events import EventKind
from connections.models import (
    Connection,
    DeliveryStatus,
    Event,
    Mode,
    WebhookDelivery,
    WebhookEndpoint,
)


def deliveries_create(event: Event) -> list[WebhookDelivery]:
    """The event's webhook body and a delivery per endpoint that wants its kind."""
    kind = EventKind(event.kind)
    if not kind.webhook or kind is EventKind.WEBHOOK_TEST:  # a test goes to one endpoint
        return []
    mode = _event_mode(event)
    endpoints = [
        e for e in event.partner.webhook_endpoints.all() if e.wants(kind) and e.hears(mode)
    ]
    if not endpoints:
        return []
    event.payload = payload(event, _event_data(event, kind))
    event.save(update_fields=["payload"])
    return [delivery_create(endpoint=endpoint, event=event) for endpoint in endpoints]


def delivery_create(*, endpoint: WebhookEndpoint, event: Event) -> WebhookDelivery:
    """A delivery of ``event`` to ``endpoint``, sent after commit; held (kept, unsent) while
    the endpoint is disabled, until it is enabled again."""
    if not endpoint.enabled:
        return WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, status=DeliveryStatus.HELD
        )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, dispatched_at=timezone.now()
    )  # noted as sent already: no UPDATE after the commit (a failed send clears it)
    return delivery_send_later(delivery, noted=True)


def delivery_send_later(
    delivery: WebhookDelivery, countdown: float = 0, *, noted: bool = False
) -> WebhookDelivery:
    """Queue the delivery's task once the current transaction commits (``noted``: the row
    was written with ``dispatched_at`` set, see ``task_send``)."""
    transaction.on_commit(
        lambda: task_send(
            Task.DELIVER_WEBHOOK, WebhookDelivery, delivery.pk, countdown=countdown, noted=noted
        )
    )
    return delivery


def sequence_next(connection: Connection) -> int:
    """The connection's next event ``sequence`` (1, 2, 3…), for receivers to order its
    webhooks: one more than its last event's, read under a lock on the connection's row held
    until the caller's transaction ends, so concurrent events take distinct numbers in the
    order they commit.

    The lock is ``FOR NO KEY UPDATE`` (what an UPDATE takes) without writing: a second write
    to a row in one transaction makes PostgreSQL re-check its foreign keys, locking the link
    session it came from, the wrong way round for a token exchange (session, then connection).
    """
    list(Connection.objects.select_for_update(no_key=True).filter(pk=connection.pk).values("pk"))
    last = Event.objects.filter(connection=connection).aggregate(last=Max("sequence"))["last"]
    return (last or 0) + 1


def payload(event: Event, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event.kind, "timestamp": event.created_at.isoformat(), "data": data}


def _event_mode(event: Event) -> str:
    """``test`` for what a test key made (its connection or link session), else ``live``."""
    made_by = event.connection or event.link_session
    return made_by.mode if made_by is not None else Mode.LIVE


def _event_data(event: Event, kind: EventKind) -> dict[str, Any]:
    data: dict[str, Any] = {"link_session_id": event.link_session_id}
    if connection := event.connection:
        data |= {
            "connection_id": connection.id,
            "end_user_id": connection.end_user_id,
            "system": connection.system_id,
            "status": connection.status,
            "mode": connection.mode,
            "sequence": event.sequence,
        }
    elif session := event.link_session:
        data |= {
            "end_user_id": session.end_user_id,
            "system": session.system_chosen or None,
            "mode": session.mode,
        }
    return data | {key: value for key, value in event.data.items() if key in kind.payload_keys}
