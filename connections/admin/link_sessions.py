"""Link sessions in the admin: where each end user got to, the operator's actions (unlock,
extend, cancel) and "create a link for a customer" (a hosted link shown once to copy)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from catalog.models import System
from connections.admin.base import LargeTableAdmin, SystemFilter, actor_of, shown_once
from connections.errors import OnrampError
from connections.models import LinkSession, LinkSessionStatus, Partner
from connections.selectors import link_session_status
from connections.services.link_sessions import (
    LinkSessionSpec,
    link_session_cancel,
    link_session_create,
    link_session_extend,
    link_session_unlock,
    link_session_url,
)


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status.value, status.label) for status in LinkSessionStatus]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        now = timezone.now()
        done = Q(validated_at__isnull=False)
        wanted = {
            LinkSessionStatus.EXCHANGED: Q(public_token_used_at__isnull=False),
            LinkSessionStatus.COMPLETED: done & Q(public_token_used_at__isnull=True),
            LinkSessionStatus.LOCKED: ~done & Q(locked_at__isnull=False),
            LinkSessionStatus.EXPIRED: ~done & Q(locked_at__isnull=True, expires_at__lte=now),
            LinkSessionStatus.OPEN: ~done & Q(locked_at__isnull=True, expires_at__gt=now),
        }.get(self.value())
        return queryset.filter(wanted) if wanted is not None else None


class CreateLinkForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.filter(is_active=True))
    end_user_id = forms.CharField(max_length=200, help_text="Your partner's id for the customer.")
    end_user_email = forms.EmailField(required=False)
    end_user_organization = forms.CharField(max_length=200, required=False)
    systems = forms.MultipleChoiceField(
        required=False, help_text="Leave empty to offer the whole catalog."
    )
    locale = forms.ChoiceField(
        required=False, help_text="The flow's language; by default, the customer's browser's."
    )
    redirect_url = forms.URLField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        label="Redirect URL",
        help_text="Where the hosted page sends the customer when done (optional; one of the "
        "partner's allowed origins).",
    )
    expires_in_days = forms.IntegerField(min_value=1, max_value=7, initial=7)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = list(System.objects.listed().values_list("slug", "name"))
        self.fields["locale"].choices = [("", "The browser's language"), *settings.LANGUAGES]


class ChosenSystemFilter(SystemFilter):
    title = "system chosen"
    parameter_name = field = "system_chosen"


@admin.register(LinkSession)
class LinkSessionAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "partner",
        "end_user_id",
        "status",
        "system_chosen",
        "last_screen",
        "failed_attempts",
        "created_at",
        "expires_at",
    ]
    list_filter = [
        StatusFilter,
        "mode",
        "partner",
        ChosenSystemFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["partner"]
    list_only = (  # the shown columns, and what the status is worked out from
        "id",
        "partner__name",
        "end_user_id",
        "system_chosen",
        "last_screen",
        "failed_attempts",
        "created_at",
        "expires_at",
        "public_token_used_at",
        "validated_at",
        "locked_at",
    )
    ordering = ["-created_at", "-id"]  # index link_session_newest
    search_fields = ["id", "end_user_id", "end_user_email"]
    exclude = ["token_digest", "public_token_digest", "public_token_sealed", "drafts"]
    actions = ["unlock", "extend", "cancel"]
    buttons = {
        "unlock": ("Unlock", "its failed attempts are forgiven and the customer may try again."),
        "extend": ("Extend by a day", "its link works one more day (an open link only)."),
        "cancel": ("Cancel the link", "its link stops working now; this cannot be undone."),
    }

    @admin.display(description="Status")
    def status(self, session: LinkSession) -> str:
        return LinkSessionStatus(link_session_status(session)).label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connections.add_linksession")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Create a link for a customer: a hosted link, shown once to copy and send."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CreateLinkForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                return self._created(request, form.cleaned_data)
            except OnrampError as exc:
                form.add_error(None, exc.message)
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a link for a customer",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/connections/create_link.html", context)

    def _created(self, request: HttpRequest, values: dict[str, Any]) -> HttpResponse:
        spec = LinkSessionSpec(
            end_user_id=values["end_user_id"],
            end_user_email=values["end_user_email"],
            end_user_organization=values["end_user_organization"],
            systems=list(values["systems"]),
            locale=values["locale"],
            redirect_url=values["redirect_url"],
            expires_in=int(timedelta(days=values["expires_in_days"]).total_seconds()),
        )
        _, link_token = link_session_create(
            partner=values["partner"], spec=spec, actor=actor_of(request)
        )
        link = [(str(values["partner"]), link_session_url(link_token))]
        return shown_once(request, self.admin_site, "A link for the customer", link, noun="link")

    @admin.action(description="Unlock (forgive the failed attempts)", permissions=["operate"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[LinkSession]) -> None:
        done = sum(link_session_unlock(session=s, actor=actor_of(request)) for s in queryset)
        self.message_user(request, f"Unlocked {done} link session(s).", messages.SUCCESS)

    @admin.action(description="Extend by a day", permissions=["operate"])
    def extend(self, request: HttpRequest, queryset: QuerySet[LinkSession]) -> None:
        """Open sessions only: an expired or cancelled link stays ended (make a new one),
        also when another operator cancels it while this runs."""
        sessions = list(queryset)
        done = sum(link_session_extend(session=s, actor=actor_of(request)) for s in sessions)
        if done:
            message = f"Extended {done} link session(s) by a day."
            self.message_user(request, message, messages.SUCCESS)
        if skipped := len(sessions) - done:
            self.message_user(
                request,
                f"{skipped} could not be extended: ended (cancelled, expired or completed) "
                "or changed by another operator just now. An ended link stays ended: make "
                "a new one.",
                messages.WARNING,
            )

    @admin.action(description="Cancel (the link stops working)", permissions=["operate"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[LinkSession]) -> None:
        done = sum(link_session_cancel(session=s, actor=actor_of(request)) for s in queryset)
        self.message_user(request, f"Cancelled {done} link session(s).", messages.SUCCESS)
