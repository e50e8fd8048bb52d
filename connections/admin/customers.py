"""Find a customer, a report page of the admin (``/admin/reports/customer/``): an end user's
link sessions and connections across partners, by the id their partner gave them, each
linking to its own page (where its buttons are). Each part shows only to an operator who may
view its rows."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from connections.models import LinkSessionStatus
from connections.selectors import (
    CUSTOMER_ROWS,
    customer_connections,
    customer_link_sessions,
    link_session_status,
)

SEES_SESSIONS = "connections.view_linksession"
SEES_CONNECTIONS = "connections.view_connection"


def customer_view(request: HttpRequest) -> HttpResponse:
    """The rows of the end user in ``?end_user_id=`` (staff who may view either kind)."""
    sessions, connections = (request.user.has_perm(p) for p in (SEES_SESSIONS, SEES_CONNECTIONS))
    if not (sessions or connections):
        raise PermissionDenied
    end_user_id = request.GET.get("end_user_id", "").strip()[:200]
    found = {}
    if end_user_id and sessions:
        found["link_sessions"] = [
            (row, LinkSessionStatus(link_session_status(row)).label)
            for row in customer_link_sessions(end_user_id)
        ]
    if end_user_id and connections:
        found["connections"] = customer_connections(end_user_id)
    context = {
        **admin.site.each_context(request),
        "title": f"Customer {end_user_id}" if end_user_id else "Find a customer",
        "end_user_id": end_user_id,
        "sees_sessions": sessions,
        "sees_connections": connections,
        "most": CUSTOMER_ROWS,
        **found,
    }
    return TemplateResponse(request, "admin/connections/customer.html", context)
