"""Partners and their secret keys in the operators' admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from connections.admin.base import (
    OperatorAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    actor_of,
    shown_once,
)
from connections.branding import branding_checked, colour_problem, lead_texts_checked
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import Mode, Partner, PartnerKey
from connections.services.audit import event_record
from connections.services.partners import (
    ROLL_OVERLAP,
    origin_normalize,
    partner_key_create,
    partner_key_revoke,
    partner_key_roll,
)


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
            "lead_text_translations",
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

    def clean_lead_text_translations(self) -> dict[str, str]:
        """Checked like the API's; the whole set is what the operator sees and saves."""
        given = self.cleaned_data.get("lead_text_translations") or {}
        if not isinstance(given, dict):
            raise forms.ValidationError(_('Enter languages and texts like {"de": "…"}.'))
        try:
            return {code: text for code, text in lead_texts_checked(given).items() if text}
        except OnrampError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_allowed_origins(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines()]
        try:
            return list(dict.fromkeys(origin_normalize(line) for line in lines if line))
        except OnrampError as exc:
            raise forms.ValidationError(exc.message) from None


class PartnerKeyInline(ReadOnlyInline):
    """The partner's keys, newest first, each with its own page's buttons (roll, revoke)."""

    model = PartnerKey
    fields = ["display", "mode", "label", "created_at", "last_used_at", "expires_at", "revoked_at"]
    ordering = ["-created_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """The buttons' column only for an operator who may use them."""
        may_act = request.user.has_perm("connections.change_partnerkey")
        return [*self.fields, "key_buttons"] if may_act else list(self.fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj)

    @admin.display(description="Actions")
    def key_buttons(self, key: PartnerKey) -> str:
        page = self.admin_site._registry[PartnerKey]
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (page.button_url(key.pk, name), label)
                for name, (label, _effect) in page.buttons.items()
            ),
        )


@admin.register(Partner)
class PartnerAdmin(OperatorAdmin):
    list_display = ["name", "id", "is_active", "created_at"]
    search_fields = ["name", "id"]
    form = PartnerForm
    fields = PartnerForm.Meta.fields
    inlines = [PartnerKeyInline]
    ordering = ["-created_at"]
    actions = ["create_key", "create_test_key"]
    buttons = {
        "create_key": ("Create a live key", "a new live secret key, shown once."),
        "create_test_key": (
            "Create a test key",
            "a new test secret key (the Sandbox ERP only), shown once.",
        ),
    }
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connections.add_partnerkey")

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        event_record(
            partner=obj,
            kind=EventKind.PARTNER_UPDATED if change else EventKind.PARTNER_CREATED,
            actor=actor_of(request),
            data={"fields": sorted(form.changed_data)},
        )

    @admin.action(description="Create a new live secret key (shown once)", permissions=["add_key"])
    def create_key(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse:
        return self._new_keys(request, queryset, Mode.LIVE)

    @admin.action(
        description="Create a new test secret key (Sandbox ERP only; shown once)",
        permissions=["add_key"],
    )
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
    fields = [
        "display",
        "partner",
        "mode",
        "label",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    ordering = ["-created_at"]
    actions = ["roll", "revoke"]
    buttons = {
        "roll": (
            "Roll",
            f"a new key of the same mode replaces it (shown once); this one keeps working "
            f"for {ROLL_OVERLAP.total_seconds() / 3600:g} hours, so the partner can switch.",
        ),
        "revoke": ("Revoke", "it stops working at once; this cannot be undone."),
    }

    def has_roll_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(
            ["connections.add_partnerkey", "connections.change_partnerkey"]
        )

    @admin.action(description="Roll selected keys (new keys shown once)", permissions=["roll"])
    def roll(self, request: HttpRequest, queryset: QuerySet[PartnerKey]) -> HttpResponse | None:
        rolled = []
        for key in queryset.select_related("partner"):
            try:
                new, secret = partner_key_roll(key=key, actor=actor_of(request))
            except OnrampError as exc:
                self.message_user(request, f"{key}: {exc.message}", messages.WARNING)
                continue
            rolled.append((f"{key.partner} ({new.mode}, replaces {key})", secret))
        return (
            shown_once(request, self.admin_site, _("New secret keys"), rolled) if rolled else None
        )

    @admin.action(description="Revoke selected keys", permissions=["operate"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PartnerKey]) -> None:
        for key in queryset:
            partner_key_revoke(key=key, actor=actor_of(request))
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
