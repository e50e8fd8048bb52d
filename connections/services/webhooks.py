"""Webhooks: partners' endpoints, and sending the deliveries the outbox (``outbox.py``) wrote.

An event a partner can receive is written with its deliveries (one per interested endpoint)
in the transaction of the state change it reports; a worker sends each, signed with the
``standardwebhooks`` package (``webhook-id`` = the delivery's id, the same on every retry),
through ``outbound.py``. A 2xx within ``ONRAMP_WEBHOOK_TIMEOUT`` (10 s) is success;
anything else is retried on ``ONRAMP_WEBHOOK_RETRY_SCHEDULE``, then the delivery is failed.
A delivery is claimed with a lease while it is sent, so a killed worker's delivery is sent
again by the sweeper; the receiver may see it twice (at least once), never zero times.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook

from connections.dispatch import Task, task_send
from connections.errors import OnrampError
from connections.events import EventKind, webhook_kinds
from connections.models import (
    DeliveryStatus,
    Partner,
    WebhookDelivery,
    WebhookEndpoint,
)
from connections.outbound.addresses import check_url
from connections.outbound.client import request
from connections.outbound.errors import OutboundError
from connections.security import crypto
from connections.services.audit import event_record
from connections.services.outbox import delivery_create, delivery_send_later, payload

DISABLE_AFTER = timedelta(days=5)
ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 10


# --- endpoints ------------------------------------------------------------------------------


@transaction.atomic
def webhook_endpoint_create(
    *, partner: Partner, url: str, events: list[str], actor: str
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns it with its secret (shown once)."""
    if partner.webhook_endpoints.count() >= MAX_ENDPOINTS:
        raise OnrampError("too_many_endpoints", f"At most {MAX_ENDPOINTS} webhook endpoints.")
    endpoint = WebhookEndpoint(partner=partner, url=_checked_url(url), events=_checked(events))
    secret = _new_secret()
    endpoint.secret = _seal(endpoint, "secret", secret)
    endpoint.save()
    event_record(
        partner=partner,
        kind=EventKind.WEBHOOK_ENDPOINT_CREATED,
        actor=actor,
        data={"endpoint": endpoint.id, "url": endpoint.url},
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: str) -> str:
    """A new secret; the old one keeps signing too (a second signature) for a day."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    old = _unseal(endpoint, "secret")
    secret = _new_secret()
    endpoint.previous_secret = _seal(endpoint, "previous_secret", old)
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = _seal(endpoint, "secret", secret)
    endpoint.save()
    event_record(
        partner=endpoint.partner,
        kind=EventKind.WEBHOOK_ENDPOINT_SECRET_ROTATED,
        actor=actor,
        data={"endpoint": endpoint.id},
    )
    return secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: str) -> None:
    event_record(
        partner=endpoint.partner,
        kind=EventKind.WEBHOOK_ENDPOINT_DELETED,
        actor=actor,
        data={"endpoint": endpoint.id, "url": endpoint.url},
    )
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, actor: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=True, disabled_reason="", failing_since=None
    )
    event_record(
        partner=endpoint.partner,
        kind=EventKind.WEBHOOK_ENDPOINT_ENABLED,
        actor=actor,
        data={"endpoint": endpoint.id},
    )


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, actor: str) -> WebhookDelivery:
    """Send a ``webhook.test`` event to this endpoint only."""
    event = event_record(partner=endpoint.partner, kind=EventKind.WEBHOOK_TEST, actor=actor)
    event.payload = payload(event, {"endpoint_id": endpoint.id})
    event.save(update_fields=["payload"])
    return delivery_create(endpoint=endpoint, event=event)


def _checked_url(url: str) -> str:
    try:
        check_url(url)
    except OutboundError as exc:
        raise OnrampError("invalid_url", f"url: {exc.message}") from None
    return url


def _checked(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(webhook_kinds()))
    if unknown:
        raise OnrampError("unknown_event", f"Unknown event type {unknown[0]!r}.")
    return list(dict.fromkeys(events))


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _seal(endpoint: WebhookEndpoint, field: str, secret: str) -> str:
    return crypto.encrypt(secret.encode(), aad=crypto.associated_data(endpoint, field))


def _unseal(endpoint: WebhookEndpoint, field: str) -> str:
    token = getattr(endpoint, field)
    return crypto.decrypt(token, aad=crypto.associated_data(endpoint, field)).decode()


# --- the outbox ---------------------------------------------------------------------------


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
    signatures = [Webhook(secret).sign(delivery.id, now, body) for secret in _secrets(endpoint)]
    return {
        "Content-Type": "application/json",
        "User-Agent": "Onramp-Webhooks/1.0",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _secrets(endpoint: WebhookEndpoint) -> list[str]:
    current = [_unseal(endpoint, "secret")]
    overlap = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and overlap and overlap > timezone.now():
        current.append(_unseal(endpoint, "previous_secret"))
    return current


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


@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery, actor: str) -> WebhookDelivery:
    """Send a delivery again now (same ``webhook-id``), whatever became of it."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )
    event_record(
        partner=delivery.endpoint.partner,
        kind=EventKind.WEBHOOK_DELIVERY_RESENT,
        actor=actor,
        data={"delivery": delivery.id},
    )
    delivery.refresh_from_db()
    return delivery_send_later(delivery)


def webhook_sweep() -> int:
    """Send due deliveries whose message was never sent or was lost (Celery beat)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    lost = due.filter(Q(claimed_until=None) | Q(claimed_until__lt=now)).filter(
        Q(dispatched_at=None) | Q(dispatched_at__lt=now - lease())
    )
    ids = list(lost.values_list("pk", flat=True)[:500])
    return sum(task_send(Task.DELIVER_WEBHOOK, WebhookDelivery, pk) for pk in ids)
