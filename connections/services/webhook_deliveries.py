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
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook

from connections.dispatch import Task, task_send
from connections.events import EventKind
from connections.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from connections.outbound.client import request
from connections.outbound.errors import OutboundError
from connections.services.audit import event_record
from connections.services.outbox import delivery_send_later
from connections.services.webhooks import endpoint_signing_secrets

DISABLE_AFTER = timedelta(days=5)


def timeout() -> float:
    return settings.ONRAMP_WEBHOOK_TIMEOUT


def lease() -> timedelta:
    """How long a worker holds a delivery it is sending before it is taken for dead."""
    return timedelta(seconds=timeout() * 1.5)


def webhook_deliver(*, delivery_id: str) -> None:
    """Send one due delivery, if this worker wins its claim; record what came back."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        _settle(delivery, status=DeliveryStatus.FAILED, error="endpoint disabled")
        return
    started = time.monotonic()
    try:
        response = request(
            "POST",
            endpoint.url,
            headers=_signed_headers(endpoint, delivery),
            data=_body(delivery).encode(),
            deadline=timeout(),
        )
    except OutboundError as exc:
        _record_attempt(delivery, time.monotonic() - started, error=exc.message)
        return
    _record_attempt(delivery, time.monotonic() - started, response=response)


def _claim(delivery_id: str) -> WebhookDelivery | None:
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + lease())
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint__partner", "event").get(pk=delivery_id)


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
    delivery: WebhookDelivery, seconds: float, *, response: Any = None, error: str = ""
) -> None:
    delivery.attempts += 1
    delivery.last_duration_ms = int(seconds * 1000)
    delivery.last_status_code = response.status if response is not None else None
    delivery.last_response = response.text[:1000] if response is not None else ""
    delivery.last_error = error[:200]
    if response is not None and 200 <= response.status < 300:
        _settle(delivery, status=DeliveryStatus.SUCCEEDED)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)
        return
    schedule = retry_schedule()
    if delivery.attempts > len(schedule):
        _settle(delivery, status=DeliveryStatus.FAILED)
    else:
        delay = schedule[delivery.attempts - 1]
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        _settle(delivery, status=DeliveryStatus.PENDING)
        if delay <= 300:  # short waits as a delayed task; the sweeper covers the rest
            delivery_send_later(delivery, countdown=delay)
    _note_failure(delivery.endpoint)


def _settle(delivery: WebhookDelivery, *, status: str, error: str = "") -> None:
    delivery.status = status
    delivery.claimed_until = None
    delivery.last_error = error or delivery.last_error
    if status == DeliveryStatus.SUCCEEDED:
        delivery.delivered_at = timezone.now()
    delivery.save()


def _note_failure(endpoint: WebhookEndpoint) -> None:
    """An endpoint failing for five days in a row is disabled (an event says so)."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
    endpoint.refresh_from_db(fields=["failing_since", "enabled"])
    if endpoint.enabled and endpoint.failing_since < now - DISABLE_AFTER:
        endpoint.enabled = False
        endpoint.disabled_reason = "Every delivery failed for 5 days."
        endpoint.save(update_fields=["enabled", "disabled_reason"])
        event_record(
            partner=endpoint.partner,
            kind=EventKind.WEBHOOK_ENDPOINT_DISABLED,
            actor="system",
            data={"endpoint": endpoint.id, "reason": endpoint.disabled_reason},
        )


def retry_schedule() -> list[int]:
    return [int(s) for s in settings.ONRAMP_WEBHOOK_RETRY_SCHEDULE]


def webhook_sweep() -> int:
    """Send due deliveries whose message was never sent or was lost (Celery beat)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    lost = due.filter(Q(claimed_until=None) | Q(claimed_until__lt=now)).filter(
        Q(dispatched_at=None) | Q(dispatched_at__lt=now - lease())
    )
    ids = list(lost.values_list("pk", flat=True)[:500])
    return sum(task_send(Task.DELIVER_WEBHOOK, WebhookDelivery, pk) for pk in ids)
