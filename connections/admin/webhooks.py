"""The webhook part of the operators' admin: endpoints (test, enable, rotate) and the
deliveries outbox (resend). No secret is ever shown except once, on rotation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from connections.admin.base import LargeTableAdmin, ReadOnlyAdmin, actor_of, shown_once
from connections.errors import OnrampError
from connections.events import webhook_kinds
from connections.models import WebhookDelivery, WebhookEndpoint
from connections.services.webhooks import (
    webhook_endpoint_enable,
    webhook_endpoint_rotate_secret,
    webhook_resend,
    webhook_test_send,
)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "partner", "enabled", "failing_since", "created_at"]
    list_filter = ["enabled", "partner"]
    fields = [
        "id",
        "partner",
        "url",
        "events",
        "enabled",
        "disabled_reason",
        "failing_since",
        "consecutive_failures",
    ]
    ordering = ["-created_at"]
    actions = ["send_test", "enable", "rotate_secret"]
    buttons = {
        "send_test": ("Send a test event", "a webhook.test event is sent to it now."),
        "enable": ("Enable again", "it receives events again, the ones held meanwhile first."),
        "rotate_secret": (
            "Rotate the signing secret",
            "a new secret signs its deliveries from now on (shown once); the partner must "
            "switch to it.",
        ),
    }

    @admin.action(description="Send a test event (webhook.test)", permissions=["operate"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        actor = actor_of(request)
        send_each(self, request, queryset, lambda e: webhook_test_send(endpoint=e, actor=actor))

    @admin.action(
        description="Enable again (and send the deliveries held meanwhile)",
        permissions=["operate"],
    )
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        released = sum(
            webhook_endpoint_enable(endpoint=endpoint, actor=actor_of(request))
            for endpoint in queryset
        )
        self.message_user(request, f"Enabled; {released} held deliveries sent.", messages.SUCCESS)

    @admin.action(description="Rotate the signing secret (shown once)", permissions=["operate"])
    def rotate_secret(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> HttpResponse:
        rotated = [
            (
                endpoint.url,
                webhook_endpoint_rotate_secret(endpoint=endpoint, actor=actor_of(request)),
            )
            for endpoint in queryset
        ]
        return shown_once(request, self.admin_site, _("New signing secrets"), rotated)


class DeliveryAttemptsFilter(admin.SimpleListFilter):
    title = _("event type")
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(kind.value, kind.value) for kind in webhook_kinds()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(event__kind=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "endpoint",
        "event_kind",
        "status",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", DeliveryAttemptsFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["endpoint", "event"]
    ordering = ["-created_at", "-id"]  # index delivery_newest
    exclude = ["claimed_until", "dispatched_at"]
    actions = ["resend"]
    buttons = {"resend": ("Resend now", "it is sent again now, with the same webhook-id.")}

    @admin.display(description="event")
    def event_kind(self, delivery: WebhookDelivery) -> str:
        return delivery.event.kind

    @admin.action(description="Resend now (same webhook-id)", permissions=["operate"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        actor = actor_of(request)
        rows = queryset.select_related("endpoint__partner")
        send_each(self, request, rows, lambda d: webhook_resend(delivery=d, actor=actor))


def send_each(
    page: admin.ModelAdmin, request: HttpRequest, rows: Iterable[Any], send: Callable[[Any], Any]
) -> None:
    """Send for each selected row; say how many were queued and why any were refused (the
    endpoint's budget, a try in flight, a disabled endpoint)."""
    queued, refused = 0, []
    for row in rows:
        try:
            send(row)
            queued += 1
        except OnrampError as exc:
            refused.append(f"{row}: {exc.message}")
    if queued:
        page.message_user(request, f"{queued} queued.", messages.SUCCESS)
    for reason in refused:
        page.message_user(request, reason, messages.WARNING)
