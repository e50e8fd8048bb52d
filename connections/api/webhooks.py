"""Partner API for webhooks: endpoints (``/webhook-endpoints``) and deliveries
(``/webhook-deliveries``). Mounted on ``api.py``'s API; the same errors and auth.

Each key sees its own mode's endpoints: a test key's endpoints hear only what test keys made
(and may be on ``http://localhost`` while ``ONRAMP_ALLOW_LOCAL_WEBHOOKS`` is on); a live
key's hear everything, each payload saying its ``mode``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from connections.api.auth import own
from connections.api.cursors import MAX_LENGTH as MAX_CURSOR_LENGTH
from connections.api.cursors import cursor_after, position_of
from connections.api.schemas import Strict
from connections.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from connections.selectors import delivery_list
from connections.services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_rotate_secret,
    webhook_resend,
    webhook_test_send,
)

router = Router(tags=["webhooks"])
DELIVERIES = "webhook-deliveries"  # what this router's cursors are positions in


class EndpointIn(Strict):
    url: str = Field(min_length=8, max_length=2048)
    events: list[str] = Field(default_factory=list, max_length=20)


class EndpointOut(Schema):
    id: str
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    created_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str


class EndpointEnabledOut(EndpointOut):
    released: int


class EndpointListOut(Schema):
    data: list[EndpointOut]


class SecretOut(Schema):
    secret: str


class DeliveryOut(BaseModel):  # a plain model: see schemas.ErrorOut
    id: str
    endpoint_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_duration_ms: int | None
    last_response: str
    last_error: str
    created_at: datetime
    delivered_at: datetime | None

    @staticmethod
    def of(delivery: WebhookDelivery) -> dict[str, Any]:
        return {
            "id": delivery.id,
            "endpoint_id": delivery.endpoint_id,
            "event_type": delivery.event.kind,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "next_attempt_at": (
                delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None
            ),
            "last_status_code": delivery.last_status_code,
            "last_duration_ms": delivery.last_duration_ms,
            "last_response": delivery.last_response,
            "last_error": delivery.last_error,
            "created_at": delivery.created_at,
            "delivered_at": delivery.delivered_at,
        }


class DeliveryListOut(BaseModel):
    data: list[DeliveryOut]
    has_more: bool
    next_cursor: str | None


class DeliveryFilters(Strict):
    endpoint_id: str | None = Field(default=None, max_length=32)
    status: DeliveryStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, min_length=1, max_length=MAX_CURSOR_LENGTH)


@router.post("/webhook-endpoints", response={201: EndpointCreatedOut})
def create_endpoint(request: HttpRequest, body: EndpointIn) -> Status:
    """A new endpoint. Its ``secret`` (``whsec_…``) is shown in this answer only."""
    endpoint, secret = webhook_endpoint_create(
        partner=request.auth,
        url=body.url,
        events=body.events,
        actor=request.actor,
        mode=request.mode,
    )
    return Status(201, {**_endpoint(endpoint), "secret": secret})


@router.get("/webhook-endpoints", response=EndpointListOut)
def list_endpoints(request: HttpRequest) -> dict[str, Any]:
    rows = request.auth.webhook_endpoints.filter(mode=request.mode).order_by("created_at")
    return {"data": [_endpoint(endpoint) for endpoint in rows]}


@router.delete("/webhook-endpoints/{endpoint_id}", response={204: None})
def delete_endpoint(request: HttpRequest, endpoint_id: str) -> Status:
    endpoint = own(WebhookEndpoint, request, endpoint_id)
    webhook_endpoint_delete(endpoint=endpoint, actor=request.actor)
    return Status(204, None)


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response=SecretOut)
def rotate_secret(request: HttpRequest, endpoint_id: str) -> dict[str, str]:
    """A new secret (shown once). For 24 hours deliveries carry a signature by the old
    secret too, so receivers can switch without losing events."""
    endpoint = own(WebhookEndpoint, request, endpoint_id)
    return {"secret": webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.actor)}


@router.post("/webhook-endpoints/{endpoint_id}/enable", response=EndpointEnabledOut)
def enable_endpoint(request: HttpRequest, endpoint_id: str) -> dict[str, Any]:
    """Enable an endpoint again, after fixing the receiver: Onramp disables one when every
    try failed for 5 days (10 or more tries in a row). Events written while it was disabled
    were kept (deliveries with status ``held``); enabling sends them now, oldest first, with
    their own ``webhook-id``. ``released`` says how many. Your own endpoints only (404
    otherwise); safe to call on an enabled endpoint (it sends anything still held)."""
    endpoint = own(WebhookEndpoint, request, endpoint_id)
    released = webhook_endpoint_enable(endpoint=endpoint, actor=request.actor)
    return {**_endpoint(endpoint), "released": released}


@router.post("/webhook-endpoints/{endpoint_id}/test", response={202: DeliveryOut})
def send_test(request: HttpRequest, endpoint_id: str) -> Status:
    """Send a ``webhook.test`` event to this endpoint."""
    endpoint = own(WebhookEndpoint, request, endpoint_id)
    return Status(202, DeliveryOut.of(webhook_test_send(endpoint=endpoint, actor=request.actor)))


@router.get("/webhook-deliveries", response=DeliveryListOut)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]) -> dict[str, Any]:
    """Deliveries to your endpoints, newest first. For the next page pass the answer's
    `next_cursor` back as `cursor` (null: the list ends here)."""
    position = position_of(filters.cursor, scope=DELIVERIES, partner=request.auth)
    page, has_more = delivery_list(
        request.auth,
        mode=request.mode,
        endpoint_id=filters.endpoint_id,
        status=filters.status,
        limit=filters.limit,
        position=position,
    )
    return {
        "data": [DeliveryOut.of(delivery) for delivery in page],
        "has_more": has_more,
        "next_cursor": cursor_after(page, has_more, scope=DELIVERIES, partner=request.auth),
    }


@router.post("/webhook-deliveries/{delivery_id}/resend", response={202: DeliveryOut})
def resend(request: HttpRequest, delivery_id: str) -> Status:
    """Send it again now, with the same ``webhook-id``. 409 ``delivery_in_flight`` while a
    try of it is under way; 409 ``endpoint_disabled`` while its endpoint is disabled (enable
    the endpoint: that sends what it held)."""
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint__partner")
        .filter(pk=delivery_id[:32], endpoint__partner=request.auth, endpoint__mode=request.mode)
        .first()
    )
    if delivery is None:
        raise Http404(f"No webhook delivery with id {delivery_id[:32]!r}.")
    return Status(202, DeliveryOut.of(webhook_resend(delivery=delivery, actor=request.actor)))


def _endpoint(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }
