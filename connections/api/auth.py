"""Who calls the partner API: a partner's secret key, or a connection's access token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from connections.models import Connection, Partner
from connections.selectors import partner_object
from connections.services.connections import connection_for_token
from connections.services.partners import partner_key_authenticate


class PartnerKeyAuth(HttpBearer):
    """``Authorization: Bearer onr_sk_…`` — a partner's secret key. A revoked or expired
    key is refused with its own code (401 ``key_revoked`` / ``key_expired``), a malformed or
    unknown one with ``unauthorized``."""

    def authenticate(self, request: HttpRequest, token: str) -> Partner | None:
        key = partner_key_authenticate(token)
        if key is None:
            return None
        request.partner_key = key  # type: ignore[attr-defined]
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
        return connection_for_token(token, active_only=self.active_only)


def own(model: type, request: HttpRequest, object_id: str) -> Any:
    """One of the calling partner's rows in the key's mode, or 404."""
    return partner_object(model, request.auth, object_id, mode=request.mode)
