"""Partner API for connections: token exchange, list, read, revalidate, rotate, revoke, and
introspection with a connection's own access token (``GET /connection``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from connections.api.auth import ConnectionTokenAuth, own
from connections.api.cursors import cursor_after, position_of
from connections.api.schemas import (
    ConnectionFilters,
    ConnectionListOut,
    ConnectionOut,
    IntrospectionOut,
    RevalidateOut,
    RotateOut,
    TokenExchangeIn,
    TokenExchangeOut,
)
from connections.models import Connection
from connections.selectors import connection_list
from connections.services.connections import (
    connection_revoke,
    connection_rotate_token,
    public_token_exchange,
)
from connections.services.validation import attempt_start_revalidation

router = Router(tags=["connections"])
SCOPE = "connections"  # what this router's cursors are positions in


@router.post("/token-exchange", response=TokenExchangeOut)
def token_exchange(request: HttpRequest, body: TokenExchangeIn) -> dict[str, Any]:
    connection, access_token = public_token_exchange(
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


@router.get("/connections", response=ConnectionListOut)
def list_connections(request: HttpRequest, filters: Query[ConnectionFilters]) -> dict:
    """Your connections (of the key's mode), newest first, `limit` a page. For the next page
    pass the answer's `next_cursor` back as `cursor` (null: the list ends here); a cursor
    costs the same at any depth. `offset` is kept for older clients, up to 10,000 rows deep
    and not with `cursor`. A cursor that is not this list's: 400 `invalid_cursor`."""
    wanted = {name: getattr(filters, name) for name in ("end_user_id", "status", "system")}
    position = position_of(filters.cursor, scope=SCOPE, partner=request.auth)
    page, has_more = connection_list(
        request.auth,
        filters=wanted,
        limit=filters.limit,
        position=position,
        offset=filters.offset,
        mode=request.mode,
    )
    return {
        "data": [ConnectionOut.of(c) for c in page],
        "has_more": has_more,
        "next_cursor": cursor_after(page, has_more, scope=SCOPE, partner=request.auth),
    }


@router.get("/connections/{connection_id}", response=ConnectionOut)
def get_connection(request: HttpRequest, connection_id: str) -> dict[str, Any]:
    return ConnectionOut.of(own(Connection, request, connection_id))


@router.post("/connections/{connection_id}/revalidate", response={202: RevalidateOut})
def revalidate(request: HttpRequest, connection_id: str) -> Status:
    connection = own(Connection, request, connection_id)
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


@router.post("/connections/{connection_id}/rotate-token", response=RotateOut)
def rotate_token(request: HttpRequest, connection_id: str) -> dict[str, str]:
    connection = own(Connection, request, connection_id)
    token = connection_rotate_token(connection=connection, actor=request.actor)
    return {"access_token": token}


@router.delete("/connections/{connection_id}", response=ConnectionOut)
def revoke(request: HttpRequest, connection_id: str) -> dict[str, Any]:
    connection = own(Connection, request, connection_id)
    connection_revoke(connection=connection, actor=request.actor)
    return ConnectionOut.of(connection)


@router.get(
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
