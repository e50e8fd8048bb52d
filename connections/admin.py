"""Operators' admin. Secrets never appear: ciphertext fields are not editable and not listed,
tokens show only their display prefix. State changes go through services (audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from connections.admin_login import LockoutAdminAuthenticationForm
from connections.branding import branding_checked, colour_problem
from connections.errors import OnrampError
from connections.models import (
    Connection,
    ConnectionStatus,
    ConnectionToken,
    Event,
    Mode,
    Partner,
    PartnerKey,
    SigningKey,
    ValidationAttempt,
)
from connections.services.connections import connection_revoke
from connections.services.events import event_record
from connections.services.partners import (
    origin_normalize,
    partner_key_create,
    partner_key_revoke,
)
from connections.services.validation import attempt_start_revalidation

admin.site.login_form = LockoutAdminAuthenticationForm
admin.site.site_header = "Onramp operations"


def actor_of(request: HttpRequest) -> str:
    return f"admin:{request.user.get_username()}"


def shown_once(
    request: HttpRequest, site: admin.AdminSite, title: str, secrets: list[tuple[str, str]]
) -> HttpResponse:
    """New secrets on this response only: never in a message cookie or a URL."""
    context = {**site.each_context(request), "title": title, "secrets": secrets}
    response = TemplateResponse(request, "admin/connections/shown_once.html", context)
    response["Cache-Control"] = "no-store"
    return response


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that change only through the flow, the API or actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _took(attempt: ValidationAttempt) -> str:
    if attempt.finished_at is None:
        return "-"
    return f"{(attempt.finished_at - attempt.created_at).total_seconds():.1f} s"


def _https_urls(field: models.Field, **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PartnerForm(forms.ModelForm):
    """Allowed origins one per line, each checked like the API and ``create_partner`` do."""

    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One exact origin per line, e.g. https://app.example.com"),
    )

    class Meta:
        model = Partner
        formfield_callback = _https_urls
        fields = [
            "name",
            "display_name",
            "logo_url",
            "primary_colour",
            "support_url",
            "privacy_url",
            "lead_text",
            "allowed_origins",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        links = {
            name: cleaned.get(name) or "" for name in ("logo_url", "support_url", "privacy_url")
        }
        try:
            branding_checked(links)
        except OnrampError as exc:
            name = exc.message.split(":", 1)[0]
            self.add_error(name, exc.message.split(": ", 1)[-1])
        return cleaned

    def clean_primary_colour(self) -> str:
        colour = self.cleaned_data["primary_colour"].lower()
        if problem := colour_problem(colour):
            raise forms.ValidationError(problem)
        return colour

    def clean_allowed_origins(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines()]
        try:
            return list(dict.fromkeys(origin_normalize(line) for line in lines if line))
        except OnrampError as exc:
            raise forms.ValidationError(exc.message) from None


class PartnerKeyInline(ReadOnlyInline):
    model = PartnerKey
    fields = ["display", "mode", "label", "created_at", "last_used_at", "revoked_at"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "is_active", "created_at"]
    search_fields = ["name", "id"]
    form = PartnerForm
    fields = PartnerForm.Meta.fields
    inlines = [PartnerKeyInline]
    actions = ["create_key", "create_test_key"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        event_record(
            partner=obj,
            kind="partner.updated" if change else "partner.created",
            actor=actor_of(request),
            data={"fields": sorted(form.changed_data)},
        )

    @admin.action(description="Create a new live secret key (shown once)")
    def create_key(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse:
        return self._new_keys(request, queryset, Mode.LIVE)

    @admin.action(description="Create a new test secret key (Sandbox ERP only; shown once)")
    def create_test_key(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse:
        return self._new_keys(request, queryset, Mode.TEST)

    def _new_keys(
        self, request: HttpRequest, queryset: QuerySet[Partner], mode: str
    ) -> HttpResponse:
        """Show the new keys on this response only: never in a message cookie or a URL."""
        actor = actor_of(request)
        created = [
            (
                partner.name,
                partner_key_create(partner=partner, actor=actor, label="admin", mode=mode)[1],
            )
            for partner in queryset
        ]
        return shown_once(request, self.admin_site, _("New secret keys"), created)


@admin.register(PartnerKey)
class PartnerKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "display",
        "partner",
        "mode",
        "label",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["mode", "revoked_at"]
    fields = ["display", "partner", "mode", "label", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[PartnerKey]) -> None:
        for key in queryset:
            partner_key_revoke(key=key, actor=actor_of(request))
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


class ConnectionTokenInline(ReadOnlyInline):
    model = ConnectionToken
    fields = ["display", "created_at", "last_used_at", "revoked_at"]


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["created_at", "kind", "actor"]
    ordering = ["-created_at"]


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
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
    list_filter = ["status", "system", "partner"]
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

    @admin.action(description="Revoke selected connections")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        for connection in queryset:
            connection_revoke(connection=connection, actor=actor_of(request))
        self.message_user(request, "Revoked; their tokens no longer work.", messages.SUCCESS)

    @admin.action(description="Revalidate selected connections now")
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


@admin.register(ValidationAttempt)
class ValidationAttemptAdmin(ReadOnlyAdmin):
    list_display = ["id", "system_slug", "method", "status", "error_code", "created_at"]
    list_filter = ["status", "system_slug"]
    exclude = ["credentials"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["id", "link_session", "source", "algorithm", "not_after", "created_at"]
    list_filter = ["source", "algorithm"]
    exclude = ["private_key"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "actor", "partner", "connection"]
    list_filter = ["kind", "partner"]
    search_fields = ["kind", "actor", "connection__id"]


from connections import (  # noqa: E402, F401 (register more admin)
    admin_catalog,
    admin_funnel,
    admin_oauth,
    admin_sessions,
    admin_webhooks,
)
