"""The Sandbox ERP: a small simulated ERP, served under /sandbox/ when ONRAMP_SANDBOX is on.

It behaves like a multi-tenant SaaS: the company comes from the Host header
(``demo.sandbox-erp.test``), requests use HTTP Basic, and each failure a real ERP gives has
a trigger (wrong password → 401, the ``readonly`` user → 403 on orders, an unknown company →
404). Onramp reaches it through the outbound client and the host map, like any system.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from catalog import sandbox_data, sandbox_oauth

COMPANIES = {"demo": {"id": "cmp_demo", "name": "Demo Manufacturing Ltd", "currency": "EUR"}}
PASSWORD = "sandbox-demo"  # noqa: S105 — published practice credentials, shown in the guide
USERS = {"demo": {"orders:read"}, "readonly": set()}
MAX_LIMIT = 200
ORDERS = [{"id": "SO-1001", "customer": "Northwind", "total": "1250.00", "status": "open"}]


def _company(request: HttpRequest) -> str | None:
    host = request.get_host().split(":")[0].lower()
    suffix = f".{settings.ONRAMP_SANDBOX_DOMAIN}"
    name = host[: -len(suffix)] if host.endswith(suffix) else ""
    return name if name in COMPANIES else None


def _user(request: HttpRequest) -> str | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return sandbox_oauth.access_token_user(encoded.strip())
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    valid = hmac.compare_digest(password.encode(), PASSWORD.encode())
    return username if username in USERS and valid else None


def sandbox_api(permission: str = "") -> Callable:
    """Resolve the company and user as a real ERP would, in the order it would."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # an API signed by its Authorization header: another method is a 405
        @require_GET
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            company = _company(request)
            if company is None:
                return JsonResponse({"message": "Unknown company."}, status=404)
            user = _user(request)
            if user is None:
                response = JsonResponse({"message": "Invalid username or password."}, status=401)
                response["WWW-Authenticate"] = 'Basic realm="Sandbox ERP"'
                return response
            if permission and permission not in USERS[user]:
                return JsonResponse({"message": f"User {user} lacks {permission}."}, status=403)
            return view(request, company)

        return wrapper

    return decorate


@sandbox_api()
def company_profile(request: HttpRequest, company: str) -> HttpResponse:
    return JsonResponse(COMPANIES[company])


@sandbox_api(permission="orders:read")
def orders(request: HttpRequest, company: str) -> HttpResponse:
    limit = request.GET.get("limit", "10")
    if not limit.isdigit():
        return JsonResponse({"message": "limit must be a number."}, status=400)
    return JsonResponse({"data": ORDERS[: min(int(limit), 100)]})


def _throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, company: str) -> HttpResponse:
        if (wait := sandbox_data.throttled()) is not None:
            response = JsonResponse({"message": "Too many requests."}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return view(request, company)

    return wrapper


@sandbox_api(permission="orders:read")
@_throttled
def purchase_orders(request: HttpRequest, company: str) -> HttpResponse:
    """Oldest change first, keyset-paged by (updated_at, id) with an opaque cursor; deleted
    orders only with ``include_deleted=true`` (as tombstones)."""
    limit, since = request.GET.get("limit", "50"), request.GET.get("modified_after", "")
    if not limit.isdigit():
        return JsonResponse({"message": "limit must be a number."}, status=400)
    try:
        after = _position(request.GET.get("cursor", ""))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return JsonResponse({"message": "Invalid cursor."}, status=400)
    deleted = request.GET.get("include_deleted") == "true"
    rows = sorted(
        (o for o in sandbox_data.records().purchase_orders if deleted or not o["deleted"]),
        key=lambda o: (o["updated_at"], o["id"]),
    )
    rows = [o for o in rows if o["updated_at"] >= since and (o["updated_at"], o["id"]) > after]
    page = rows[: min(max(int(limit), 1), MAX_LIMIT)]
    more = len(rows) > len(page)
    cursor = _cursor(page[-1]) if more else None
    return JsonResponse({"data": page, "next_cursor": cursor})


def _cursor(order: dict) -> str:
    return base64.urlsafe_b64encode(f"{order['updated_at']}|{order['id']}".encode()).decode()


def _position(cursor: str) -> tuple[str, str]:
    if not cursor:
        return ("", "")
    updated_at, bar, order_id = base64.urlsafe_b64decode(cursor).decode().partition("|")
    if not bar:
        raise ValueError(cursor)
    return (updated_at, order_id)


@sandbox_api()
@_throttled
def vendors(request: HttpRequest, company: str) -> HttpResponse:
    """Paged by number (``page``, ``per_page``), oldest change first, ``updated_since``."""
    page, per_page = request.GET.get("page", "1"), request.GET.get("per_page", "25")
    if not (page.isdigit() and per_page.isdigit() and int(page) >= 1):
        return JsonResponse({"message": "page and per_page must be numbers."}, status=400)
    since, size = request.GET.get("updated_since", ""), min(max(int(per_page), 1), MAX_LIMIT)
    rows = sorted(
        (v for v in sandbox_data.records().vendors if v["updated_at"] >= since),
        key=lambda v: (v["updated_at"], v["id"]),
    )
    start = (int(page) - 1) * size
    return JsonResponse({"vendors": rows[start : start + size], "page": int(page)})


@sandbox_api()
@_throttled
def items(request: HttpRequest, company: str) -> HttpResponse:
    """Paged by offset (``offset``, ``limit``), oldest change first, ``changed_since``; each
    item with its stock per warehouse."""
    offset, limit = request.GET.get("offset", "0"), request.GET.get("limit", "50")
    if not (offset.isdigit() and limit.isdigit()):
        return JsonResponse({"message": "offset and limit must be numbers."}, status=400)
    since, size = request.GET.get("changed_since", ""), min(max(int(limit), 1), MAX_LIMIT)
    rows = sorted(
        (i for i in sandbox_data.records().items if i["updated_at"] >= since),
        key=lambda i: (i["updated_at"], i["sku"]),
    )
    start = int(offset)
    return JsonResponse({"items": rows[start : start + size], "total": len(rows)})


urlpatterns = [
    path("api/v1/company", company_profile, name="sandbox-company"),
    path("api/v1/orders", orders, name="sandbox-orders"),
    path("api/v1/purchase-orders", purchase_orders, name="sandbox-purchase-orders"),
    path("api/v1/vendors", vendors, name="sandbox-vendors"),
    path("api/v1/items", items, name="sandbox-items"),
    path("oauth/authorize", sandbox_oauth.authorize, name="sandbox-authorize"),
    path("oauth/decide/", sandbox_oauth.decide, name="sandbox-decide"),
    path("oauth/token", sandbox_oauth.token, name="sandbox-token"),
    path("oauth/revoke", sandbox_oauth.revoke, name="sandbox-revoke"),
]
