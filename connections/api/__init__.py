"""The partner REST API, ``/api/v1/`` (contract: DESIGN.md): the API object, its error
shapes, and one router per resource. Routers are thin: parse, call one service, shape."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from connections.api import agents, catalog, keys, link_sessions, partner, proxy, syncs, webhooks
from connections.api import connections as connections_routes
from connections.api.auth import PartnerKeyAuth
from connections.errors import OnrampError, with_headers
from connections.http.outages import OUTAGES, unavailable

logger = logging.getLogger(__name__)
ROUTERS = (
    link_sessions,
    connections_routes,
    proxy,
    webhooks,
    catalog,
    partner,
    keys,
    syncs,
    agents,
)


api = NinjaAPI(
    title="Onramp Partner API",
    version="1.0",
    description="Create link sessions, exchange public tokens, manage connections.",
    urls_namespace="api-v1",
    auth=PartnerKeyAuth(),
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, **extra: Any
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, **extra}}, status=status
    )


@api.exception_handler(OnrampError)
def on_refusal(request: HttpRequest, exc: OnrampError) -> HttpResponse:
    return with_headers(error_response(request, exc.status, exc.code, exc.message), exc)


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Name the fields, never echo the values (they may be secrets).
    problems = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
            "message": e.get("msg", "invalid"),
        }
        for e in exc.errors
    ]
    first = problems[0] if problems else {"field": "body", "message": "invalid"}
    message = f"{first['field']}: {first['message']}"
    return error_response(request, 400, "invalid_request", message, details=problems)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        401,
        "unauthorized",
        "Missing or invalid bearer token in the Authorization header.",
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "invalid_request" if exc.status_code < 500 else "internal_error"
    return error_response(request, exc.status_code, code, str(exc))


def on_outage(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A database, cache or broker that cannot be reached (even while authenticating, where
    Ninja would answer 500): 503 with Retry-After."""
    return unavailable(request, exc)


for outage in OUTAGES:
    api.add_exception_handler(outage, on_outage)

for module in ROUTERS:
    api.add_router("/", module.router)
