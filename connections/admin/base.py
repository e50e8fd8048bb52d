"""What every admin page shares: who acted, secrets shown once, read-only pages, buttons on
an object's own page, lists' rows written out in one pass (``rows.py``, through this module).

Admin modules import only this module (and services): ``admin/__init__.py`` imports each page
module to register it, so no page module ever imports another.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import cached_property

from catalog.models import System
from connections.admin.login import LockoutAdminAuthenticationForm
from connections.admin.rows import table
from connections.admin.rows import when as when  # readable times, for pages' own cells
from connections.selectors import estimated_count

admin.site.login_form = LockoutAdminAuthenticationForm
admin.site.site_header = "Onramp operations"
# No sidebar listing every model on every page: it was a third of an empty list's time
# (issue 17: a changelist within 5 times a bare view); the breadcrumbs and the index lead
# everywhere.
admin.site.enable_nav_sidebar = False


def actor_of(request: HttpRequest) -> str:
    return f"admin:{request.user.get_username()}"


def shown_once(
    request: HttpRequest,
    site: admin.AdminSite,
    title: str,
    secrets: list[tuple[str, str]],
    noun: str = "secret",
) -> HttpResponse:
    """New secrets (or links, ``noun="link"``) on this response only: never in a message
    cookie or a URL; each with a button that copies it."""
    context = {**site.each_context(request), "title": title, "secrets": secrets, "noun": noun}
    response = TemplateResponse(request, "admin/connections/shown_once.html", context)
    response["Cache-Control"] = "no-store"
    return response


class OperatorAdmin(admin.ModelAdmin):
    """Every admin page's base. Each action declares the permission it needs
    (``@admin.action(permissions=[...])``, checked by ``has_<name>_permission``): ``operate``
    for actions that change rows (revoke, rotate, resend…), which is the model's *change*
    permission even where the page itself edits nothing. A view-only operator can look, never
    act: posting an action one may not run is refused with 403, not quietly ignored.

    ``buttons`` names the actions also offered on an object's own page (action name → its
    label and what it does, said on the confirmation). A button opens a confirmation page;
    confirming posts it (CSRF-checked) and runs the list's very action on that one row, after
    the same permission check.
    """

    change_form_template = "admin/connections/change_form.html"
    buttons: dict[str, tuple[str, str]] = {}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request):
            raise PermissionDenied
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if isinstance(response, TemplateResponse) and "cl" in context:
            context.update(table(context["cl"]))  # rows in one pass, not cell by cell
        return response

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_button"
        view = self.admin_site.admin_view(self.button_view)
        return [path("<path:object_id>/do/<str:action>/", view, name=name), *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        allowed = self.get_actions(request)
        buttons = [
            (label, self.button_url(unquote(object_id), action))
            for action, (label, _effect) in self.buttons.items()
            if action in allowed
        ]
        extra_context = {**(extra_context or {}), "buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context)

    def button_url(self, object_id: Any, action: str) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_button"
        return reverse(name, args=[quote(object_id), action], current_app=self.admin_site.name)

    def button_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """GET: what the button will do, to confirm; POST: do it, back to the object's page
        (or the action's own answer, such as a secret shown once)."""
        if action not in self.buttons:
            raise Http404
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        allowed = self.get_actions(request)
        if action not in allowed or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        if request.method != "POST":
            return self._confirmation(request, obj, action)
        answer = allowed[action][0](self, request, self.get_queryset(request).filter(pk=obj.pk))
        change = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        back = reverse(change, args=[quote(obj.pk)], current_app=self.admin_site.name)
        return answer or HttpResponseRedirect(back)

    def _confirmation(self, request: HttpRequest, obj: Any, action: str) -> HttpResponse:
        label, effect = self.buttons[action]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}: {obj}?",
            "object": obj,
            "effect": effect,
            "label": label,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/connections/confirm_button.html", context)


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
    # The columns a page's rows read, loaded alone (``only()``) when given: a row's model
    # instance built from every column (and its joined rows') cost a tenth of a page.
    # ``test_changelists`` fails if a row reads another (a query per row).
    list_only: tuple[str, ...] = ()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ShownColumnsChangeList if self.list_only else super().get_changelist(request)


class ShownColumnsChangeList(ChangeList):
    """A page's rows with only the columns its admin's ``list_only`` names; actions and
    everything else get whole rows."""

    def get_results(self, request: HttpRequest) -> None:
        whole = self.queryset
        self.queryset = whole.only(*self.model_admin.list_only)
        try:
            super().get_results(request)
        finally:
            self.queryset = whole


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
