"""Connections in the operators' admin: every check, its events and tokens; revoke and
revalidate. Secrets never appear: ciphertext fields are not editable and not listed, tokens
show only their display prefix."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from connections.admin.base import (
    LargeTableAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    SystemFilter,
    actor_of,
)
from connections.errors import OnrampError
from connections.models import (
    Connection,
    ConnectionStatus,
    ConnectionToken,
    Event,
    SigningKey,
    ValidationAttempt,
)
from connections.services.connections import connection_revoke
from connections.services.validation import attempt_start_revalidation


def _took(attempt: ValidationAttempt) -> str:
    if attempt.finished_at is None:
        return "-"
    return f"{(attempt.finished_at - attempt.created_at).total_seconds():.1f} s"


class ConnectionTokenInline(ReadOnlyInline):
    model = ConnectionToken
    fields = ["display", "created_at", "last_used_at", "revoked_at"]


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["created_at", "kind", "actor"]
    ordering = ["-created_at"]


@admin.register(Connection)
class ConnectionAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "partner",
        "system",
        "end_user_id",
        "status",
        "last_checked_at",
        "next_check_at",
        "last_error_code",
    ]
    list_filter = ["status", SystemFilter, "partner", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["partner", "system"]
    ordering = ["-created_at", "-id"]  # index connection_newest
    search_fields = ["id", "end_user_id", "end_user_email"]
    fields = [
        "id",
        "partner",
        "system",
        "method",
        "end_user_id",
        "end_user_email",
        "end_user_organization",
        "config",
        "status",
        "last_validated_at",
        "last_checked_at",
        "next_check_at",
        "consecutive_failures",
        "last_error_code",
        "last_error_message",
        "proxy_requests",
        "last_proxied_at",
        "created_at",
        "revoked_at",
        "checks",
    ]
    inlines = [ConnectionTokenInline, EventInline]
    actions = ["revoke", "revalidate"]

    @admin.display(description="Checks")
    def checks(self, connection: Connection) -> str:
        """Every check of this connection: from its link sessions, revalidations, health."""
        attempts = ValidationAttempt.objects.filter(
            Q(connection=connection) | Q(link_session__connection=connection)
        ).order_by("-created_at")[:50]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (a.created_at, a.method, a.get_status_display(), a.error_code or "-", _took(a))
                for a in attempts
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Method</th><th>Status</th><th>Failure code</th>"
            "<th>Duration</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Revoke selected connections", permissions=["operate"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        for connection in queryset:
            connection_revoke(connection=connection, actor=actor_of(request))
        self.message_user(request, "Revoked; their tokens no longer work.", messages.SUCCESS)

    @admin.action(description="Revalidate selected connections now", permissions=["operate"])
    def revalidate(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        queued, refused = 0, 0
        for connection in queryset.exclude(status=ConnectionStatus.REVOKED):
            try:
                attempt_start_revalidation(connection=connection, actor=actor_of(request))
                queued += 1
            except OnrampError:  # checked a moment ago: the throttle protects the customer
                refused += 1
        self.message_user(request, f"Queued {queued} revalidation(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"Skipped {refused}: checked less than a minute ago.", messages.WARNING
            )


@admin.register(ConnectionToken)
class ConnectionTokenAdmin(ReadOnlyAdmin):
    list_display = ["display", "connection", "created_at", "last_used_at", "revoked_at"]
    fields = list_display


class AttemptSystemFilter(SystemFilter):
    parameter_name = field = "system_slug"


@admin.register(ValidationAttempt)
class ValidationAttemptAdmin(LargeTableAdmin):
    list_display = ["id", "system_slug", "method", "status", "error_code", "created_at"]
    list_filter = ["status", AttemptSystemFilter]
    exclude = ["credentials"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["id", "link_session", "source", "algorithm", "not_after", "created_at"]
    list_filter = ["source", "algorithm"]
    exclude = ["private_key"]
