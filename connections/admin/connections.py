"""Connections in the operators' admin: every check, its events and tokens; revoke and
revalidate. Secrets never appear: ciphertext fields are not editable and not listed, tokens
show only their display prefix."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

from connections.admin.base import (
    LargeTableAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    SystemFilter,
    actor_of,
    shown_once,
    when,
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
from connections.services.link_sessions import (
    LinkSessionSpec,
    link_session_create,
    link_session_url,
)
from connections.services.validation import attempt_start_revalidation
from connections.syncs.models import SyncRun, SyncState
from connections.syncs.runs import sync_request, synced_models

RECONNECT_LINK_LIFETIME = 7 * 24 * 3600  # hosted links' longest


def _took(attempt: ValidationAttempt) -> str:
    if attempt.finished_at is None:
        return "-"
    return f"{(attempt.finished_at - attempt.created_at).total_seconds():.1f} s"


SYNC_ROW = (
    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
    "<td>{}</td><td>{}</td><td>{}</td></tr>"
)


def _sync_row(run: SyncRun) -> tuple:
    counts = (run.added, run.updated, run.deleted, run.unchanged, run.failed)
    error = f"{run.error_code}: {run.error_message}" if run.error_code else "-"
    return (
        when(run.started_at),
        run.state.model,
        run.mode,
        run.get_status_display(),
        *counts,
        error,
    )


def _check_row(attempt: ValidationAttempt) -> tuple:
    code = attempt.error_code or "-"
    return (
        when(attempt.created_at),
        attempt.method,
        attempt.get_status_display(),
        code,
        _took(attempt),
    )


class ConnectionTokenInline(ReadOnlyInline):
    model = ConnectionToken
    fields = ["display", "created_at", "last_used_at", "revoked_at"]
    ordering = ["-created_at"]


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
    list_only = (
        "id",
        "partner__name",
        "system__name",
        "end_user_id",
        "status",
        "last_checked_at",
        "next_check_at",
        "last_error_code",
        "created_at",
    )
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
        "syncs",
        "created_at",
        "revoked_at",
        "checks",
    ]
    inlines = [ConnectionTokenInline, EventInline]
    actions = ["revoke", "revalidate", "sync_now", "reconnect_link"]
    buttons = {
        "revalidate": ("Revalidate now", "its credentials are checked again with the system."),
        "sync_now": (
            "Sync now",
            "each model its partner reads is synced now (incremental), unless one is running.",
        ),
        "reconnect_link": (
            "Create a reconnect link",
            "a hosted link (7 days) for the customer to enter new credentials for this "
            "connection; shown once.",
        ),
        "revoke": ("Revoke", "its tokens stop working at once; this cannot be undone."),
    }

    def has_reconnect_link_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connections.add_linksession")

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
                (
                    when(a.created_at),
                    a.method,
                    a.get_status_display(),
                    a.error_code or "-",
                    _took(a),
                )
                for a in attempts
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Method</th><th>Status</th><th>Failure code</th>"
            "<th>Duration</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Syncs")
    def syncs(self, connection: Connection) -> str:
        """Per model: its state, last success, next run, last error, and its latest runs."""
        runs = SyncRun.objects.filter(state__connection=connection).select_related("state")
        rows = format_html_join(
            "", SYNC_ROW, (_sync_row(r) for r in runs.order_by("-started_at")[:20])
        )
        states = format_html_join(
            "",
            "<li><strong>{}</strong>: {}; last success {}; next run {}{}</li>",
            (
                (
                    s.model,
                    s.get_status_display(),
                    when(s.last_success_at) if s.last_success_at else "never",
                    when(s.next_run_at) if s.next_run_at else "-",
                    f"; last error {s.last_error_code}: {s.last_error_message}"
                    if s.last_error_code
                    else "",
                )
                for s in SyncState.objects.filter(connection=connection).order_by("model")
            ),
        )
        if not states:
            return "No syncs yet (they start within a minute of the schedule's next run)."
        return format_html(
            "<ul>{}</ul><table><thead><tr><th>Started</th><th>Model</th><th>Mode</th>"
            "<th>Status</th><th>Added</th><th>Updated</th><th>Deleted</th><th>Unchanged</th>"
            "<th>Failed</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
            states,
            rows,
        )

    @admin.action(description="Sync selected connections now", permissions=["operate"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        started, skipped = 0, []
        for connection in queryset.select_related("partner").filter(
            status=ConnectionStatus.ACTIVE
        ):
            for model in synced_models(connection):
                try:
                    sync_request(
                        connection=connection, model=model, full=False, actor=actor_of(request)
                    )
                    started += 1
                except OnrampError as exc:  # one is running already
                    skipped.append(f"{connection.pk} {model.value}: {exc.message}")
        self.message_user(request, f"Started {started} sync(s).", messages.SUCCESS)
        for reason in skipped:
            self.message_user(request, reason, messages.WARNING)

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

    @admin.action(
        description="Create a reconnect link for each (shown once)",
        permissions=["reconnect_link"],
    )
    def reconnect_link(
        self, request: HttpRequest, queryset: QuerySet[Connection]
    ) -> HttpResponse | None:
        """A hosted link per connection, for its customer to enter new credentials."""
        links, refused = [], []
        for connection in queryset.select_related("partner"):
            spec = LinkSessionSpec(
                end_user_id=connection.end_user_id,
                end_user_email=connection.end_user_email,
                end_user_organization=connection.end_user_organization,
                systems=[connection.system_id],
                connection_id=connection.pk,
                mode=connection.mode,
                expires_in=RECONNECT_LINK_LIFETIME,
            )
            try:
                _, token = link_session_create(
                    partner=connection.partner, spec=spec, actor=actor_of(request)
                )
            except OnrampError as exc:  # revoked meanwhile, or its system no longer listed
                refused.append(f"{connection.pk}: {exc.message}")
                continue
            links.append((f"{connection.end_user_id} ({connection.pk})", link_session_url(token)))
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
        if not links:
            return None
        return shown_once(request, self.admin_site, "Reconnect links", links, noun="link")


@admin.register(ConnectionToken)
class ConnectionTokenAdmin(ReadOnlyAdmin):
    list_display = ["display", "connection", "created_at", "last_used_at", "revoked_at"]
    ordering = ["-created_at"]
    fields = list_display


class AttemptSystemFilter(SystemFilter):
    parameter_name = field = "system_slug"


@admin.register(ValidationAttempt)
class ValidationAttemptAdmin(LargeTableAdmin):
    list_display = ["id", "system_slug", "method", "status", "error_code", "created_at"]
    list_filter = ["status", AttemptSystemFilter]
    ordering = ["-created_at", "-id"]  # index attempt_newest
    exclude = ["credentials"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["id", "link_session", "source", "algorithm", "not_after", "created_at"]
    list_filter = ["source", "algorithm"]
    ordering = ["-created_at"]
    exclude = ["private_key"]
