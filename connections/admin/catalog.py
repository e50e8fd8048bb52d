"""The catalog in the admin: operators enable, disable and pin systems, see how each one
does (connections, how many who chose it got connected, why attempts failed), and which
systems end users asked for. Lives here, not in ``catalog``: the numbers are connections'."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from catalog.models import System, SystemRequest
from catalog.registry import get_definition
from catalog.search import catalog_changed
from connections.admin.base import OperatorAdmin, ReadOnlyAdmin
from connections.models import SystemFigures
from connections.selectors import (
    needs_app,
    recent_failures,
    signs_in,
    system_sign_in_partners,
)
from connections.services.system_figures import system_figures_count

REQUEST_WINDOWS = ("30", "90", "all")


def _every() -> str:
    seconds = settings.ONRAMP_SYSTEM_FIGURES_INTERVAL
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def figures_of(system: System) -> SystemFigures | None:
    """The system's recounted figures (joined in the page's query), or None: nothing counted."""
    return getattr(system, "figures", None)


@admin.register(System)
class SystemAdmin(OperatorAdmin):
    """Per system, figures recounted by Celery beat (``services/system_figures.py``), joined
    in the page's one query: no count per system, however many connections there are."""

    list_display = [
        "name",
        "vendor",
        "enabled",
        "pinned",
        "coming_soon",
        "connection_count",
        "completion",
        "failures",
        "popularity",
        "checked",
    ]
    list_filter = ["enabled", "pinned", "in_catalog", "coming_soon"]
    list_select_related = ["figures"]
    search_fields = ["name", "slug", "vendor", "search_text"]
    fields = ["slug", "name", "vendor", "summary", "categories", "enabled", "pinned"]
    fields += ["popularity", "coming_soon", "in_catalog", "synced_at", "offered_to", "checked"]
    fields += ["failure_table"]
    readonly_fields = [f for f in fields if f not in ("enabled", "pinned")]
    actions = ["enable", "disable", "pin", "unpin", "count_figures"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from catalog/systems/*.toml

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # connections refer to them; disable instead

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        counted = SystemFigures.objects.aggregate(at=Max("counted_at"))["at"]
        when = f"{counted:%Y-%m-%d %H:%M} UTC" if counted else "not yet"
        note = f"Figures counted {when} (recounted every {_every()})."
        return super().changelist_view(request, {"figures_note": note, **(extra_context or {})})

    @admin.display(description="Connections", ordering="figures__connections")
    def connection_count(self, system: System) -> int:
        figures = figures_of(system)
        return figures.connections if figures else 0

    @admin.display(description="Chose it, then connected", ordering="figures__sessions_connected")
    def completion(self, system: System) -> str:
        figures = figures_of(system)
        if not (figures and figures.sessions_chose):
            return "-"
        done, chose = figures.sessions_connected, figures.sessions_chose
        return f"{round(100 * done / chose)}% ({done}/{chose})"

    @admin.display(description="Failures, 30 days")
    def failures(self, system: System) -> str:
        figures = figures_of(system)
        rows = figures.failures[:3] if figures else []
        return ", ".join(f"{row['error_code'] or '?'} x{row['count']}" for row in rows) or "-"

    @admin.display(description="Facts checked")
    def checked(self, system: System) -> str:
        """How the definition's facts were checked (``verified`` in its file), and when."""
        definition = get_definition(system.slug)
        how = {"docs": "against the vendor's docs", "account": "on a real account"}
        if definition is None or not definition.verified:
            return "not checked"
        return f"{how[definition.verified]}, {definition.verified_on}"

    @admin.display(description="Offered to")
    def offered_to(self, system: System) -> str:
        """A sign-in method (or one sending the partner's app key) is offered only to partners
        with their app registered (``selectors.session_methods``); a system with nothing else,
        to them only."""
        definition = get_definition(system.slug)
        sign_ins = [m.label for m in definition.methods if needs_app(m)] if definition else []
        if not sign_ins:
            return "Every partner's end users."
        keys = any(needs_app(m) and not signs_in(m) for m in definition.methods)
        kind = "app" if keys else "OAuth app"
        partners = ", ".join(system_sign_in_partners(system.slug)) or "none yet"
        if len(sign_ins) == len(definition.methods):
            others = "other partners' end users are not offered this system"
        else:
            others = "other partners' end users see its other methods only"
        return (
            f"{', '.join(sign_ins)}: only partners that registered their {kind} "
            f"({partners}); {others} (GET /systems: oauth_app_missing)."
        )

    @admin.display(description="Failed attempts in the last 30 days, by code")
    def failure_table(self, system: System) -> str:
        rows = recent_failures([system.slug]).get(system.slug, [])
        if not rows:
            return "None."
        body = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            ((row["error_code"] or "?", row["count"], row["last"]) for row in rows),
        )
        return format_html(
            "<table><thead><tr><th>Code</th><th>Attempts</th><th>Last</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    def save_model(self, request: HttpRequest, obj: System, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(catalog_changed)  # every process searches the new catalog

    def _switch(self, request: HttpRequest, queryset: QuerySet[System], **change: bool) -> int:
        count = queryset.update(**change)
        transaction.on_commit(catalog_changed)
        return count

    @admin.action(description="Enable selected systems", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        count = self._switch(request, queryset, enabled=True)
        self.message_user(request, f"Enabled {count} system(s).", messages.SUCCESS)

    @admin.action(description="Disable selected systems", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        count = self._switch(request, queryset, enabled=False)
        self.message_user(request, f"Disabled {count} system(s).", messages.SUCCESS)

    @admin.action(description="Pin selected systems to the top", permissions=["change"])
    def pin(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        count = self._switch(request, queryset, pinned=True)
        self.message_user(request, f"Pinned {count} system(s).", messages.SUCCESS)

    @admin.action(description="Unpin selected systems", permissions=["change"])
    def unpin(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        count = self._switch(request, queryset, pinned=False)
        self.message_user(request, f"Unpinned {count} system(s).", messages.SUCCESS)

    @admin.action(description="Recount every system's figures now", permissions=["change"])
    def count_figures(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        """Without waiting for beat (the selection does not matter: all are recounted)."""
        counted = system_figures_count()
        self.message_user(request, f"Recounted: {counted} system(s) have figures.")


@admin.register(SystemRequest)
class SystemRequestAdmin(ReadOnlyAdmin):
    """The list is the names end users asked for, ranked by how many asked."""

    list_display = ["name", "partner_id", "link_session_id", "created_at"]
    search_fields = ["name", "normalized"]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = request.GET.get("days", "90")
        days = days if days in REQUEST_WINDOWS else "90"
        rows = SystemRequest.objects.all()
        if days != "all":
            rows = rows.filter(created_at__gte=timezone.now() - timedelta(days=int(days)))
        ranked = (
            rows.values("normalized")
            .annotate(
                count=Count("pk"),
                partners=Count("partner_id", distinct=True),
                last=Max("created_at"),
                name=Max("name"),
            )
            .order_by("-count", "-last")[:200]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Systems end users asked for",
            "opts": self.model._meta,
            "ranked": ranked,
            "days": days,
            "windows": [("30", "30 days"), ("90", "90 days"), ("all", "All time")],
            "total": rows.count(),
        }
        return TemplateResponse(request, "admin/catalog/systemrequest/ranked.html", context)
