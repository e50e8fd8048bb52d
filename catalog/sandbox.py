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

from catalog import sandbox_oauth

COMPANIES = {"demo": {"id": "cmp_demo", "name": "Demo Manufacturing Ltd", "currency": "EUR"}}
PASSWORD = "sandbox-demo"  # noqa: S105 — published practice credentials, shown in the guide
USERS = {"demo": {"orders:read"}, "readonly": set()}
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


urlpatterns = [
    path("api/v1/company", company_profile, name="sandbox-company"),
    path("api/v1/orders", orders, name="sandbox-orders"),
    path("oauth/authorize", sandbox_oauth.authorize, name="sandbox-authorize"),
    path("oauth/decide/", sandbox_oauth.decide, name="sandbox-decide"),
    path("oauth/token", sandbox_oauth.token, name="sandbox-token"),
    path("oauth/revoke", sandbox_oauth.revoke, name="sandbox-revoke"),
]
