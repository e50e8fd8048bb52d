"""The demo partner page (/demo/, embedded default only).

It plays a partner's product: its backend calls Onramp's public API over HTTP with the demo
partner's secret key (written by ``seed_demo``), exactly as a partner's server would; its
page opens the flow with ``connect.js``. The access token stays in this backend's session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from connections.security.tokens import display

API_TIMEOUT = 30


def demo_key_file() -> Path:
    return settings.ONRAMP_DATA_DIR / "demo-partner.key"


def _call(
    method: str, path_: str, *, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    key = token or demo_key_file().read_text().strip()
    response = requests.request(
        method,
        f"{settings.ONRAMP_PUBLIC_URL}/api/v1{path_}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=API_TIMEOUT,
    )
    return response.status_code, response.json() if response.content else None


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "demo/index.html",
        {
            "ready": demo_key_file().exists(),
            "onramp_url": settings.ONRAMP_PUBLIC_URL,
        },
    )
    response.frame_src = settings.ONRAMP_PUBLIC_URL  # the flow's iframe; partners allow it too
    return response


@require_POST
def create_link_session(request: HttpRequest) -> JsonResponse:
    origin = f"{request.scheme}://{request.get_host()}"
    body = {
        "end_user": {"id": "demo-customer-42", "organization": "Northwind Traders"},
        "allowed_origin": origin,
    }
    status, data = _call("POST", "/link-sessions", body=body)
    return JsonResponse({"request": body, "status": status, "response": data}, status=status)


@require_POST
def exchange(request: HttpRequest) -> JsonResponse:
    public_token = json.loads(request.body or b"{}").get("public_token", "")
    status, data = _call("POST", "/token-exchange", body={"public_token": public_token})
    if status != 200:
        return JsonResponse({"status": status, "response": data}, status=status)
    request.session["access_token"] = data["access_token"]
    request.session["connection_id"] = data["connection_id"]
    data["access_token"] = display(data["access_token"])  # the page never sees the token
    introspected = _call("GET", "/connection", token=request.session["access_token"])
    return JsonResponse(
        {
            "exchange": data,
            "introspection": {"status": introspected[0], "response": introspected[1]},
        }
    )


@require_POST
def read_orders(request: HttpRequest) -> JsonResponse:
    """Sync the connection's purchase orders now (tasks run inline in the demo) and read the
    first page of what was synced, as a partner's backend would with the connection token."""
    token = request.session.get("access_token")
    if not token:
        return JsonResponse({"error": "Connect a system first."}, status=409)
    started = _call("POST", "/syncs", token=token, body={"model": "purchase_orders"})
    listed = _call("GET", "/purchase-orders?page_size=5", token=token)
    return JsonResponse(
        {
            "sync": {"status": started[0], "response": started[1]},
            "list": {"status": listed[0], "response": listed[1]},
        }
    )


@require_POST
def revoke(request: HttpRequest) -> JsonResponse:
    connection_id = request.session.get("connection_id")
    token = request.session.get("access_token")
    if not connection_id or not token:
        return JsonResponse({"error": "Connect a system first."}, status=409)
    revoked = _call("DELETE", f"/connections/{connection_id}")
    after = _call("GET", "/connection", token=token)
    return JsonResponse(
        {
            "revoke": {"status": revoked[0], "response": revoked[1]},
            "introspection_after": {"status": after[0], "response": after[1]},
        }
    )


urlpatterns = [
    path("", page, name="demo"),
    path("link-session", create_link_session, name="demo-link-session"),
    path("exchange", exchange, name="demo-exchange"),
    path("orders", read_orders, name="demo-orders"),
    path("revoke", revoke, name="demo-revoke"),
]
