"""What every admin page shares: who acted, secrets shown once, read-only pages.

Admin modules import only this module (and services): ``admin/__init__.py`` imports each page
module to register it, so no page module ever imports another.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from connections.admin.login import LockoutAdminAuthenticationForm

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
