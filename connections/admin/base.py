"""What every admin page shares: who acted, secrets shown once, read-only pages.

Admin modules import only this module (and services): ``admin/__init__.py`` imports each page
module to register it, so no page module ever imports another.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

from catalog.models import System
from connections.admin.login import LockoutAdminAuthenticationForm
from connections.selectors import estimated_count

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


class OperatorAdmin(admin.ModelAdmin):
    """Every admin page's base. Each action declares the permission it needs
    (``@admin.action(permissions=[...])``, checked by ``has_<name>_permission``): ``operate``
    for actions that change rows (revoke, rotate, resend…), which is the model's *change*
    permission even where the page itself edits nothing. A view-only operator can look, never
    act: posting an action one may not run is refused with 403, not quietly ignored.
    """

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(OperatorAdmin):
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


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ``ONRAMP_ADMIN_EXACT_COUNT_UP_TO`` rows; beyond, PostgreSQL's
    estimate (``estimated`` is then set and the page says "about"): an exact ``COUNT(*)`` reads
    every row, a million of them on every page view of the audit trail."""

    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = estimated_count(self.object_list)
        if estimate is None or estimate <= settings.ONRAMP_ADMIN_EXACT_COUNT_UP_TO:
            return super().count
        self.estimated = True
        return estimate


class LargeTableAdmin(ReadOnlyAdmin):
    """A page over a table that grows without bound (connections, link sessions, the audit
    trail, deliveries): no exact count of the whole table, no facet counts, filters whose
    choices cost no scan of it, and whatever a row shows joined in the page's one query
    (``list_select_related``). Date filters are ``created_at`` ranges on its index rather than
    ``date_hierarchy``, whose drill-down is a ``SELECT DISTINCT`` over the whole table."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50  # rendering is most of a page's time: 100 rows cost twice 50

    def action_checkbox(self, obj: Any) -> str:
        """Django's checkbox, written out instead of rendered through a form widget's
        template for every row (a fifth of a long page's time)."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )


class SystemFilter(admin.SimpleListFilter):
    """The catalog's systems (a small table), for a column holding a system's slug: no
    ``SELECT DISTINCT`` over the rows being listed."""

    title = "system"
    parameter_name = "system"
    field = "system_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(System.objects.order_by("name").values_list("slug", "name"))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset
