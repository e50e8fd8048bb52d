"""Sending the deliveries the outbox (``outbox.py``) wrote, retrying them, and the sweep.

A task claims a batch of due deliveries (``webhook_claims.py``: round-robin between endpoints,
each lane within its endpoint's and partner's send budgets, the one its message names first)
and holds them with a lease under one token, so two workers never send a delivery at once and
a killed worker's batch is due again when the lease ends (the sweeper sends it): the receiver
may see a delivery twice (at least once), never zero times. The batch is signed with the
``standardwebhooks`` package (``webhook-id`` = the delivery's id, the same on every retry) and
sent at once through ``outbound/client.py`` from the worker's send slots
(``webhook_sends.py``); each lane gives its budget slot back as it ends, and calls a task for
deliveries that waited for it. What came back is recorded in groups as it arrives, only while
this batch still holds its claim (a worker paused past its lease changes nothing): a 2xx
within ``ONRAMP_WEBHOOK_TIMEOUT`` (10 s) is success, in one UPDATE for the group; anything else
is retried on ``ONRAMP_WEBHOOK_RETRY_SCHEDULE``, then the delivery is failed. Each send's time
marks its endpoint slow or not (``webhook_budget.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from standardwebhooks import Webhook

from connections.dispatch import Task, task_nudge, task_send
from connections.events import EventKind
from connections.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from connections.services.audit import event_record
from connections.services.outbox import delivery_send_later
from connections.services.webhook_claims import (
    BATCH,
    Batch,
    batch_claim,
    batch_end,
    due,
    lease,
    subject_of,
)
from connections.services.webhook_places import slowness_note
from connections.services.webhook_sends import Send, Sent, Watch, sends_run
from connections.services.webhooks import endpoint_local_allowed, endpoint_signing_secrets

DISABLE_AFTER = timedelta(days=5)
DISABLE_AFTER_FAILURES = 10  # more than one delivery's whole retry schedule (8 tries)
DISABLED_REASON = "Every try failed for 5 days (10 or more tries in a row)."
SWEEP_BATCH = 500


def webhook_deliver(*, delivery_id: str = "") -> int:
    """Claim due deliveries within their endpoints' budgets (``delivery_id`` first, while it
    is due and free), send them at once and record what came back. Returns how many were
    claimed. A batch that left lanes for want of room, or sends it could not start in time
    (released), asks for another task: more are due."""
    batch = batch_claim(delivery_id)
    unstarted: list[list[Send]] = []
    try:
        if batch.deliveries:
            unstarted = _send_batch(batch)
    finally:  # what the batch still holds (all of it, should recording have failed)
        waited = batch_end(batch)
    if waited or unstarted or batch.more_due:
        task_nudge(Task.DELIVER_WEBHOOK)
    return len(batch.deliveries)


def _send_batch(batch: Batch) -> list[list[Send]]:
    lanes, members = _lanes(batch, _hold_disabled(batch))
    _wake(batch_end(batch, [m for m in batch.slots if m not in members]))  # nothing to send
    watch = Watch(
        record=partial(_record, batch),
        lane_ended=lambda index: _wake(batch_end(batch, [members[index]])),
        still_running=lambda endpoint_id, seconds: slowness_note({endpoint_id: seconds}),
        slow_after=settings.ONRAMP_WEBHOOK_SLOW_AFTER,
    )
    unstarted = sends_run(lanes, start_by=batch.start_by, watch=watch)
    _release(batch, [send for lane in unstarted for send in lane])
    return unstarted


def _wake(waited: bool) -> None:
    """Someone waited for the slots just given back: a task for the waiting deliveries."""
    if waited:
        task_nudge(Task.DELIVER_WEBHOOK)


def _hold_disabled(batch: Batch) -> list[WebhookDelivery]:
    """Deliveries of disabled endpoints are held (kept for when it is enabled again); the
    rest are returned."""
    held = [pk for pk, d in batch.deliveries.items() if not d.endpoint.enabled]
    if held:
        _still_ours(batch).filter(pk__in=held).update(
            status=DeliveryStatus.HELD,
            claimed_until=None,
            claimed_by="",
            last_error="endpoint disabled",
        )
    return [d for d in batch.deliveries.values() if d.endpoint.enabled]


def _still_ours(batch: Batch) -> models.QuerySet[WebhookDelivery]:
    """The batch's deliveries it still holds: a resend, or a worker that took over a lapsed
    lease, has taken the others."""
    return WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, claimed_by=batch.token)


def _lanes(batch: Batch, deliveries: list[WebhookDelivery]) -> tuple[list[list[Send]], list[str]]:
    """Signed sends, a lane per budget slot (one subject's deliveries to one endpoint in the
    order they were written, then the next subject's), and each lane's slot."""
    signers: dict[str, list[Webhook]] = {}
    lanes: dict[str, list[Send]] = {}
    for delivery in deliveries:
        endpoint = delivery.endpoint
        if endpoint.pk not in signers:
            signers[endpoint.pk] = [Webhook(s) for s in endpoint_signing_secrets(endpoint)]
        event = delivery.event
        subject = subject_of(event.connection_id, event.link_session_id, delivery.pk)
        lane = lanes.setdefault(batch.lane_slot[(endpoint.pk, subject)], [])
        lane.append(_signed(delivery, signers[endpoint.pk]))
    return list(lanes.values()), list(lanes)


def _signed(delivery: WebhookDelivery, signers: list[Webhook]) -> Send:
    now = datetime.now(tz=UTC)
    body = json.dumps(delivery.event.payload, separators=(",", ":"))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Onramp-Webhooks/1.0",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(s.sign(delivery.id, now, body) for s in signers),
    }
    endpoint = delivery.endpoint
    return Send(
        delivery_id=delivery.id,
        endpoint_id=endpoint.pk,
        url=endpoint.url,
        headers=headers,
        body=body.encode(),
        allow_local=endpoint_local_allowed(endpoint),
    )


def _release(batch: Batch, unstarted: list[Send]) -> None:
    """Sends never started are due again at once, for the next task."""
    if unstarted:
        _still_ours(batch).filter(pk__in=[s.delivery_id for s in unstarted]).update(
            claimed_until=None, claimed_by=""
        )


def _record(batch: Batch, sent: list[Sent]) -> None:
    slowness_note({s.send.endpoint_id: s.seconds for s in sent})
    _record_successes(batch, [s for s in sent if s.succeeded])
    for one in sent:
        if not one.succeeded:
            _record_failure(batch, one)


def _record_successes(batch: Batch, sent: list[Sent]) -> None:
    """One UPDATE for the group (rows this batch no longer holds are left alone), one more for
    endpoints that were failing until now."""
    if not sent:
        return
    rows = [
        (s.send.delivery_id, s.response.status, int(s.seconds * 1000), s.response.text[:1000])
        for s in sent
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            SUCCEEDED_SQL.format(
                table=connection.ops.quote_name(WebhookDelivery._meta.db_table),
                values=", ".join(["(%s, %s, %s, %s)"] * len(rows)),
            ),
            [
                *(value for row in rows for value in row),
                *(DeliveryStatus.SUCCEEDED, timezone.now(), DeliveryStatus.PENDING, batch.token),
            ],
        )
    recovered = WebhookEndpoint.objects.filter(pk__in={s.send.endpoint_id for s in sent})
    recovered.exclude(consecutive_failures=0, failing_since=None).update(
        failing_since=None, consecutive_failures=0
    )


# What Django's bulk_update would write as a CASE per column and row, far slower to build.
SUCCEEDED_SQL = """
WITH sent (id, code, ms, body) AS (VALUES {values})
UPDATE {table} SET status = %s, attempts = attempts + 1, delivered_at = %s,
    claimed_until = NULL, claimed_by = '', last_error = '',
    last_status_code = CAST(sent.code AS integer), last_duration_ms = CAST(sent.ms AS integer),
    last_response = sent.body
FROM sent
WHERE {table}.id = sent.id AND status = %s AND claimed_by = %s
"""


@transaction.atomic
def _record_failure(batch: Batch, sent: Sent) -> None:
    delivery = batch.deliveries[sent.send.delivery_id]
    response = sent.response
    tried = {
        "attempts": delivery.attempts + 1,
        "last_duration_ms": int(sent.seconds * 1000),
        "last_status_code": response.status if response is not None else None,
        "last_response": response.text[:1000] if response is not None else "",
        "last_error": sent.error[:200],
    }
    if _settle_failure(batch, delivery, tried):
        _note_failure(delivery.endpoint)


def _settle_failure(batch: Batch, delivery: WebhookDelivery, tried: dict[str, Any]) -> bool:
    """Failed for good past the schedule, else pending until the next try is due."""
    schedule = retry_schedule()
    held = _still_ours(batch).filter(pk=delivery.pk)
    unclaimed = {"claimed_until": None, "claimed_by": ""}
    if tried["attempts"] > len(schedule):
        return bool(held.update(status=DeliveryStatus.FAILED, **unclaimed, **tried))
    delay = schedule[tried["attempts"] - 1]
    due = timezone.now() + timedelta(seconds=delay)
    if not held.update(next_attempt_at=due, **unclaimed, **tried):
        return False
    if delay <= 300:  # short waits as a delayed task; the sweeper covers the rest
        delivery_send_later(delivery, countdown=delay)
    return True


def _note_failure(endpoint: WebhookEndpoint) -> None:
    """Count a failed try; an endpoint is disabled (an event says so) once at least
    ``DISABLE_AFTER_FAILURES`` tries in a row failed and the first of them is older than
    ``DISABLE_AFTER``: a busy endpoint down for an hour, or an idle one whose one failure is
    old, keeps receiving."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce("failing_since", Value(now)),
    )
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint.pk,
        enabled=True,
        consecutive_failures__gte=DISABLE_AFTER_FAILURES,
        failing_since__lt=now - DISABLE_AFTER,
    ).update(enabled=False, disabled_reason=DISABLED_REASON)
    if disabled:  # once, whichever worker saw the last straw
        event_record(
            partner=endpoint.partner,
            kind=EventKind.WEBHOOK_ENDPOINT_DISABLED,
            actor="system",
            data={"endpoint": endpoint.id, "reason": DISABLED_REASON},
        )


def retry_schedule() -> list[int]:
    return [int(s) for s in settings.ONRAMP_WEBHOOK_RETRY_SCHEDULE]


def webhook_sweep() -> int:
    """Send due deliveries whose message was never sent or was lost (Celery beat); release
    what an enabled endpoint still holds (enabled while its event was being written)."""
    now = timezone.now()
    WebhookDelivery.objects.filter(status=DeliveryStatus.HELD, endpoint__enabled=True).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, dispatched_at=None
    )
    lost = WebhookDelivery.objects.filter(due(now)).filter(
        Q(dispatched_at=None) | Q(dispatched_at__lt=now - lease())
    )
    ids = list(lost.order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    WebhookDelivery.objects.filter(pk__in=ids).update(dispatched_at=now)
    return sum(_send_chunk(ids[start : start + BATCH]) for start in range(0, len(ids), BATCH))


def _send_chunk(ids: list[str]) -> int:
    """One task for a batch's worth (it claims the first, then the oldest due): how many
    were sent for. A broker that is down leaves them for the next sweep."""
    if task_send(Task.DELIVER_WEBHOOK, WebhookDelivery, ids[0], noted=True):
        return len(ids)
    WebhookDelivery.objects.filter(pk__in=ids).update(dispatched_at=None)
    return 0
