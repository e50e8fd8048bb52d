"""Webhooks: partners' endpoints, test events and resends.

An event a partner can receive is written with its deliveries (one per interested endpoint)
in the transaction of the state change it reports (``outbox.py``); ``webhook_deliveries.py``
sends them.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connections.dispatch import Task, task_send
from connections.errors import OnrampError
from connections.events import EventKind, webhook_kinds
from connections.models import (
    DeliveryStatus,
    Mode,
    Partner,
    WebhookDelivery,
    WebhookEndpoint,
)
from connections.outbound.addresses import check_url, is_local_url
from connections.outbound.errors import OutboundError
from connections.security import crypto
from connections.security.ratelimit import Limit, enforce
from connections.services.audit import event_record
from connections.services.outbox import delivery_create, delivery_send_later, payload

ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 10
MANUAL_SENDS_PER_MINUTE = 10  # tests and resends, per endpoint
SEND_AT_ONCE = 500  # held deliveries sent as an endpoint is enabled; the sweeper sends more


# --- endpoints ------------------------------------------------------------------------------


@transaction.atomic
def webhook_endpoint_create(
    *, partner: Partner, url: str, events: list[str], actor: str, mode: str = Mode.LIVE
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns it with its secret (shown once). A ``test`` endpoint (made
    with a test key) hears only what test keys made, and may be on this machine
    (``http://localhost:…``) while ``ONRAMP_ALLOW_LOCAL_WEBHOOKS`` is on."""
    if partner.webhook_endpoints.count() >= MAX_ENDPOINTS:
        raise OnrampError("too_many_endpoints", f"At most {MAX_ENDPOINTS} webhook endpoints.")
    endpoint = WebhookEndpoint(
        partner=partner, url=_checked_url(url, mode), events=_checked(events), mode=mode
    )
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
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, actor: str) -> int:
    """Enable the endpoint again (its count of failed tries starts afresh) and send what it
    held while disabled, oldest first. Returns how many held deliveries were released."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=True, disabled_reason="", failing_since=None, consecutive_failures=0
    )
    released = _release_held(endpoint)
    event_record(
        partner=endpoint.partner,
        kind=EventKind.WEBHOOK_ENDPOINT_ENABLED,
        actor=actor,
        data={"endpoint": endpoint.id, "released": released},
    )
    endpoint.refresh_from_db()
    return released


def _release_held(endpoint: WebhookEndpoint) -> int:
    """Held deliveries become due now; the first batch is sent at commit, the sweeper sends
    the rest."""
    held = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.HELD)
    first = list(held.order_by("created_at").values_list("pk", flat=True)[:SEND_AT_ONCE])
    released = held.update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), dispatched_at=None
    )
    for pk in first:
        transaction.on_commit(partial(task_send, Task.DELIVER_WEBHOOK, WebhookDelivery, pk))
    return released


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, actor: str) -> WebhookDelivery:
    """Send a ``webhook.test`` event to this endpoint only (within its budget of manual
    sends: ``RateLimited``, 429 with ``Retry-After``, beyond it)."""
    manual_send_budget_spend(endpoint)
    event = event_record(partner=endpoint.partner, kind=EventKind.WEBHOOK_TEST, actor=actor)
    event.payload = payload(event, {"endpoint_id": endpoint.id})
    event.save(update_fields=["payload"])
    return delivery_create(endpoint=endpoint, event=event)


def manual_send_budget_spend(endpoint: WebhookEndpoint) -> None:
    """Test events and resends share a budget per endpoint (``MANUAL_SENDS_PER_MINUTE``), so
    a script or a busy operator cannot flood a receiver; beyond it, ``RateLimited``."""
    limit = Limit(f"onramp:webhook-manual-sends:{endpoint.pk}", MANUAL_SENDS_PER_MINUTE, 60)
    message = f"At most {MANUAL_SENDS_PER_MINUTE} test events and resends a minute per endpoint."
    enforce((limit, message))


def _checked_url(url: str, mode: str) -> str:
    if is_local_url(url):
        if mode == Mode.TEST and settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS:
            return url
        raise OnrampError("invalid_url", _local_refusal(mode))
    try:
        check_url(url)
    except OutboundError as exc:
        raise OnrampError(
            "invalid_url", f"url: {exc.message} Webhooks go to public https:// addresses only."
        ) from None
    return url


def _local_refusal(mode: str) -> str:
    """Why a URL on this machine is refused, and what to do instead."""
    if not settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS:
        return (
            "url: this address is on this machine. This Onramp sends webhooks to public "
            "https:// addresses only: local endpoints are for development (an Onramp run with "
            "ONRAMP_ALLOW_LOCAL_WEBHOOKS=1, the default with DEBUG=1, and a test key). "
            "Here, give your receiver a public https:// address (a tunnel, for instance)."
        )
    return (
        "url: an address on this machine can receive test events only: create the endpoint "
        "with a test key (onr_sk_test_…; POST /api/v1/keys makes one). Live endpoints need "
        "a public https:// address."
    )


def endpoint_local_allowed(endpoint: WebhookEndpoint) -> bool:
    """May this endpoint's deliveries go to this machine (re-read at every send, so turning
    the setting off stops them)?"""
    return endpoint.mode == Mode.TEST and settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS


def _checked(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(webhook_kinds()))
    if unknown:
        raise OnrampError("unknown_event", f"Unknown event type {unknown[0]!r}.")
    return list(dict.fromkeys(events))


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _seal(endpoint: WebhookEndpoint, field: str, secret: str) -> str:
    return crypto.encrypt(secret.encode(), aad=crypto.associated_data(endpoint, field))


def endpoint_signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The secrets that sign a delivery: the current one, and the previous one for a day."""
    current = [_unseal(endpoint, "secret")]
    overlap = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and overlap and overlap > timezone.now():
        current.append(_unseal(endpoint, "previous_secret"))
    return current


def _unseal(endpoint: WebhookEndpoint, field: str) -> str:
    token = getattr(endpoint, field)
    return crypto.decrypt(token, aad=crypto.associated_data(endpoint, field)).decode()


@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery, actor: str) -> WebhookDelivery:
    """Send a delivery again now (same ``webhook-id``), whatever became of it.

    Refused (409) while its endpoint is disabled (``endpoint_disabled``: enabling it sends
    what it held) and while a try of it is in flight (``delivery_in_flight``); counts against
    the endpoint's budget of manual sends (429 beyond it).
    """
    if not delivery.endpoint.enabled:
        raise OnrampError(
            "endpoint_disabled",
            "This endpoint is disabled; enable it (POST …/enable) and its held deliveries "
            "are sent.",
            409,
        )
    now = timezone.now()
    free = Q(claimed_until=None) | Q(claimed_until__lt=now)  # or its sender's lease lapsed
    if not WebhookDelivery.objects.filter(free, pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, claimed_until=None, claimed_by=""
    ):
        raise OnrampError(
            "delivery_in_flight",
            "This delivery is being sent right now; resend it once that try has ended.",
            409,
        )
    manual_send_budget_spend(delivery.endpoint)  # over it: the update above is rolled back
    event_record(
        partner=delivery.endpoint.partner,
        kind=EventKind.WEBHOOK_DELIVERY_RESENT,
        actor=actor,
        data={"delivery": delivery.id},
    )
    delivery.refresh_from_db()
    return delivery_send_later(delivery)
