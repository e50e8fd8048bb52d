"""The partner REST API, ``/api/v1/`` (contract: DESIGN.md). Thin: parse, call, shape."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from connections.api.catalog import router as catalog_router
from connections.api.partner import router as partner_router
from connections.api.schemas import (
    ConnectionFilters,
    ConnectionListOut,
    ConnectionOut,
    IntrospectionOut,
    LinkSessionIn,
    LinkSessionOut,
    LinkSessionStatusOut,
    RevalidateOut,
    RotateOut,
    TokenExchangeIn,
    TokenExchangeOut,
)
from connections.api.webhooks import router as webhooks_router
from connections.errors import OnrampError, with_headers
from connections.models import Connection, LinkSession, Partner
from connections.selectors import connection_list, link_session_status, partner_object
from connections.services import connections as connection_services
from connections.services.link_sessions import (
    LinkSessionSpec,
    link_session_create,
    link_session_url,
    public_token_outstanding,
)
from connections.services.partners import partner_key_authenticate
from connections.services.proxy import METHODS as PROXY_METHODS
from connections.services.proxy import RETURNED, ProxyCall, proxy_forward, proxy_use_record
from connections.services.validation import attempt_start_revalidation

logger = logging.getLogger(__name__)


class PartnerKeyAuth(HttpBearer):
    """``Authorization: Bearer onr_sk_…`` — a partner's secret key."""

    def authenticate(self, request: HttpRequest, token: str) -> Partner | None:
        key = partner_key_authenticate(token)
        if key is None:
            return None
        request.actor = f"partner_key:{key.id}"  # type: ignore[attr-defined]
        request.mode = key.mode  # type: ignore[attr-defined]
        return key.partner


class ConnectionTokenAuth(HttpBearer):
    """``Authorization: Bearer onr_ct_…`` — a connection's access token (of an active
    connection, unless ``active_only`` is off: the proxy says 409 itself)."""

    def __init__(self, *, active_only: bool = True) -> None:
        super().__init__()
        self.active_only = active_only

    def authenticate(self, request: HttpRequest, token: str) -> Connection | None:
        return connection_services.connection_for_token(token, active_only=self.active_only)


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


@api.post("/link-sessions", response={201: LinkSessionOut}, tags=["link sessions"])
def create_link_session(request: HttpRequest, body: LinkSessionIn) -> Status:
    spec = LinkSessionSpec(
        end_user_id=body.end_user.id,
        end_user_email=body.end_user.email,
        end_user_organization=body.end_user.organization,
        systems=body.systems,
        connection_id=body.connection_id,
        allowed_origin=body.allowed_origin or "",
        redirect_url=body.redirect_url or "",
        locale=body.locale,
        expires_in=body.expires_in,
        mode=request.mode,
        branding=body.branding.model_dump(exclude_none=True) if body.branding else {},
    )
    session, link_token = link_session_create(partner=request.auth, spec=spec, actor=request.actor)
    return Status(
        201,
        {
            "id": session.id,
            "link_token": link_token,
            "url": link_session_url(link_token),
            "expires_at": session.expires_at,
        },
    )


@api.get("/link-sessions/{session_id}", response=LinkSessionStatusOut, tags=["link sessions"])
def get_link_session(request: HttpRequest, session_id: str) -> dict[str, Any]:
    """Where a session stands. Once validated it also returns the session's one-time
    ``public_token`` until it is exchanged or expires (for hosted links). Reading changes
    nothing."""
    session = _own(LinkSession, request, session_id)
    public_token = public_token_outstanding(session)
    return {
        "id": session.id,
        "status": link_session_status(session),
        "expires_at": session.expires_at,
        "connection_id": session.connection_id,
        "public_token": public_token,
    }


@api.post("/token-exchange", response=TokenExchangeOut, tags=["connections"])
def token_exchange(request: HttpRequest, body: TokenExchangeIn) -> dict[str, Any]:
    connection, access_token = connection_services.public_token_exchange(
        partner=request.auth,
        public_token=body.public_token,
        actor=request.actor,
        mode=request.mode,
    )
    return {
        "connection_id": connection.id,
        "access_token": access_token,
        "system": connection.system_id,
        "status": connection.status,
    }


@api.get("/connections", response=ConnectionListOut, tags=["connections"])
def list_connections(request: HttpRequest, filters: Query[ConnectionFilters]) -> dict:
    wanted = {name: getattr(filters, name) for name in ("end_user_id", "status", "system")}
    page, has_more = connection_list(
        request.auth, filters=wanted, offset=filters.offset, limit=filters.limit, mode=request.mode
    )
    return {"data": [ConnectionOut.of(c) for c in page], "has_more": has_more}


@api.get("/connections/{connection_id}", response=ConnectionOut, tags=["connections"])
def get_connection(request: HttpRequest, connection_id: str) -> dict[str, Any]:
    return ConnectionOut.of(_own(Connection, request, connection_id))


@api.post(
    "/connections/{connection_id}/revalidate", response={202: RevalidateOut}, tags=["connections"]
)
def revalidate(request: HttpRequest, connection_id: str) -> Status:
    connection = _own(Connection, request, connection_id)
    attempt = attempt_start_revalidation(connection=connection, actor=request.actor)
    attempt.refresh_from_db()
    connection.refresh_from_db()
    return Status(
        202,
        {
            "attempt_id": attempt.id,
            "status": attempt.status,
            "connection": ConnectionOut.of(connection),
        },
    )


@api.post("/connections/{connection_id}/rotate-token", response=RotateOut, tags=["connections"])
def rotate_token(request: HttpRequest, connection_id: str) -> dict[str, str]:
    connection = _own(Connection, request, connection_id)
    token = connection_services.connection_rotate_token(connection=connection, actor=request.actor)
    return {"access_token": token}


@api.delete("/connections/{connection_id}", response=ConnectionOut, tags=["connections"])
def revoke(request: HttpRequest, connection_id: str) -> dict[str, Any]:
    connection = _own(Connection, request, connection_id)
    connection_services.connection_revoke(connection=connection, actor=request.actor)
    return ConnectionOut.of(connection)


@api.get(
    "/connection", response=IntrospectionOut, auth=ConnectionTokenAuth(), tags=["introspection"]
)
def introspect(request: HttpRequest) -> dict[str, Any]:
    """What the connection access token in the Authorization header opens."""
    connection = request.auth
    return {
        "id": connection.id,
        "system": connection.system_id,
        "status": connection.status,
        "end_user_id": connection.end_user_id,
        "config": connection.config,
    }


@api.api_operation(
    sorted(PROXY_METHODS),
    "/proxy/{path:path}",
    auth=ConnectionTokenAuth(active_only=False),
    tags=["proxy"],
    summary="Call the customer's system",
)
def proxy(request: HttpRequest, path: str) -> HttpResponse:
    """Forward to the connection's system: same method, ``path`` under its base URL, query
    string, body and a few headers (Content-Type, Accept, Prefer…). Onramp applies the
    connection's auth; the answer's status, body and safe headers come back."""
    call = ProxyCall(
        method=request.method or "GET",
        path=path,
        query=request.META.get("QUERY_STRING", ""),
        headers=dict(request.headers),
        body=request.read(settings.ONRAMP_PROXY_MAX_REQUEST_BYTES),
    )
    answer = proxy_forward(connection=request.auth, call=call)
    response = AfterResponse(answer.content, status=answer.status)
    for name, value in answer.headers.items():
        if name.lower() in RETURNED:
            response[name] = value
    response.after = partial(proxy_use_record, connection_id=request.auth.id)
    return response


class AfterResponse(HttpResponse):
    """Runs ``after`` once the server has sent it (WSGI calls ``close()``): bookkeeping that
    need not make the partner wait."""

    after: Any = None

    def close(self) -> None:
        super().close()
        if self.after is not None:
            self.after()


api.add_router("/", webhooks_router)
api.add_router("/", catalog_router)
api.add_router("/", partner_router)


def _own(model: type, request: HttpRequest, object_id: str) -> Any:
    return partner_object(model, request.auth, object_id, mode=request.mode)
