"""Sending the deliveries the outbox (``outbox.py``) wrote, retrying them, and the sweep.

A worker sends each delivery signed with the ``standardwebhooks`` package (``webhook-id`` =
the delivery's id, the same on every retry), through ``outbound/client.py``. A 2xx within
``ONRAMP_WEBHOOK_TIMEOUT`` (10 s) is success; anything else is retried on
``ONRAMP_WEBHOOK_RETRY_SCHEDULE``, then the delivery is failed. A delivery is claimed with a
lease while it is sent, so a killed worker's delivery is sent again by the sweeper; the
receiver may see it twice (at least once), never zero times.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from standardwebhooks import Webhook

from connections.dispatch import Task, task_send
from connections.events import EventKind
from connections.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from connections.outbound.client import request
from connections.outbound.errors import OutboundError
from connections.services.audit import event_record
from connections.services.outbox import delivery_send_later
from connections.services.webhooks import endpoint_local_allowed, endpoint_signing_secrets

DISABLE_AFTER = timedelta(days=5)
DISABLE_AFTER_FAILURES = 10  # more than one delivery's whole retry schedule (8 tries)
DISABLED_REASON = "Every try failed for 5 days (10 or more tries in a row)."
SWEEP_BATCH = 500


def timeout() -> float:
    return settings.ONRAMP_WEBHOOK_TIMEOUT


def lease() -> timedelta:
    """How long a worker holds a delivery it is sending before it is taken for dead."""
    return timedelta(seconds=timeout() * 1.5)


def webhook_deliver(*, delivery_id: str) -> None:
    """Send one due delivery, if this worker wins its claim; record what came back (only
    while it still holds the claim: a worker paused past its lease changes nothing)."""
    claim = _claim(delivery_id)
    if claim is None:
        return
    delivery, endpoint = claim.delivery, claim.delivery.endpoint
    if not endpoint.enabled:  # kept for when it is enabled again
        _settle(claim, DeliveryStatus.HELD, last_error="endpoint disabled")
        return
    started = time.monotonic()
    try:
        response = request(
            "POST",
            endpoint.url,
            headers=_signed_headers(endpoint, delivery),
            data=_body(delivery).encode(),
            deadline=timeout(),
            allow_local=endpoint_local_allowed(endpoint),
        )
    except OutboundError as exc:
        _record_attempt(claim, time.monotonic() - started, error=exc.message)
        return
    _record_attempt(claim, time.monotonic() - started, response=response)


@dataclass(frozen=True)
class Claim:
    """A delivery this worker is sending, and the token that proves it still holds it."""

    delivery: WebhookDelivery
    token: str


def _claim(delivery_id: str) -> Claim | None:
    now, token = timezone.now(), secrets.token_hex(16)
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + lease(), claimed_by=token)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint__partner", "event")
    return Claim(delivery.get(pk=delivery_id), token)


def _body(delivery: WebhookDelivery) -> str:
    return json.dumps(delivery.event.payload, separators=(",", ":"))


def _signed_headers(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> dict[str, str]:
    now = datetime.now(tz=UTC)
    body = _body(delivery)
    signatures = [
        Webhook(secret).sign(delivery.id, now, body)
        for secret in endpoint_signing_secrets(endpoint)
    ]
    return {
        "Content-Type": "application/json",
        "User-Agent": "Onramp-Webhooks/1.0",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


@transaction.atomic
def _record_attempt(
    claim: Claim, seconds: float, *, response: Any = None, error: str = ""
) -> None:
    delivery = claim.delivery
    tried = {
        "attempts": delivery.attempts + 1,
        "last_duration_ms": int(seconds * 1000),
        "last_status_code": response.status if response is not None else None,
        "last_response": response.text[:1000] if response is not None else "",
        "last_error": error[:200],
    }
    if response is not None and 200 <= response.status < 300:
        if _settle(claim, DeliveryStatus.SUCCEEDED, delivered_at=timezone.now(), **tried):
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
                failing_since=None, consecutive_failures=0
            )
        return
    if _settle_failure(claim, tried):
        _note_failure(delivery.endpoint)


def _settle_failure(claim: Claim, tried: dict[str, Any]) -> bool:
    """Failed for good past the schedule, else pending until the next try is due."""
    schedule = retry_schedule()
    if tried["attempts"] > len(schedule):
        return _settle(claim, DeliveryStatus.FAILED, **tried)
    delay = schedule[tried["attempts"] - 1]
    due = timezone.now() + timedelta(seconds=delay)
    if not _settle(claim, DeliveryStatus.PENDING, next_attempt_at=due, **tried):
        return False
    if delay <= 300:  # short waits as a delayed task; the sweeper covers the rest
        delivery_send_later(claim.delivery, countdown=delay)
    return True


def _settle(claim: Claim, status: str, **fields: Any) -> bool:
    """End this worker's try: a conditional UPDATE that changes the row only while the claim
    is still this worker's (a resend, or a worker that took over a lapsed lease, wins)."""
    held = WebhookDelivery.objects.filter(
        pk=claim.delivery.pk, status=DeliveryStatus.PENDING, claimed_by=claim.token
    )
    return bool(held.update(status=status, claimed_until=None, claimed_by="", **fields))


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
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    lost = due.filter(Q(claimed_until=None) | Q(claimed_until__lt=now)).filter(
        Q(dispatched_at=None) | Q(dispatched_at__lt=now - lease())
    )
    ids = list(lost.order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    return sum(task_send(Task.DELIVER_WEBHOOK, WebhookDelivery, pk) for pk in ids)
