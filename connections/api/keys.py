"""Partner API for the partner's own secret keys (``/keys``): create, list, roll, revoke.

A live key manages every key of its partner; a test key sees and manages test keys only, and
cannot make a live one. Mounted on ``api.py``'s API; the same errors and auth."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from connections.api.schemas import Strict, live_key_only
from connections.errors import OnrampError
from connections.models import Mode, PartnerKey
from connections.selectors import partner_keys_usable, partner_object
from connections.services.partners import (
    MAX_KEYS,
    MAX_ROLL_OVERLAP,
    ROLL_OVERLAP,
    partner_key_create,
    partner_key_revoke,
    partner_key_roll,
)

router = Router(tags=["keys"])


class KeyIn(Strict):
    mode: Mode = Mode.TEST
    label: str = Field(default="", max_length=120)


class RollIn(Strict):
    expires_in: int = Field(
        default=int(ROLL_OVERLAP.total_seconds()),
        ge=0,
        le=int(MAX_ROLL_OVERLAP.total_seconds()),
        description="Seconds the old key keeps working: 0 (at once) to 604800 (7 days).",
    )


class KeyOut(Schema):
    id: str
    display: str  # the key's first characters, to recognise it by
    mode: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None  # set once the key is rolled

    @staticmethod
    def of(key: PartnerKey) -> dict[str, Any]:
        return {name: getattr(key, name) for name in KeyOut.model_fields}


class KeyCreatedOut(KeyOut):
    secret: str  # shown in this answer only


class RolledOut(KeyCreatedOut):
    rolled: KeyOut  # the old key, with the time it stops working


class KeyListOut(Schema):
    data: list[KeyOut]


@router.post("/keys", response={201: KeyCreatedOut})
def create_key(request: HttpRequest, body: KeyIn | None = None) -> Status:
    """A new secret key (``test`` unless asked; only a live key can make a live one). Its
    ``secret`` is shown in this answer only."""
    body = body or KeyIn()
    if body.mode == Mode.LIVE:
        live_key_only(request)
    key, secret = partner_key_create(
        partner=request.auth, actor=request.actor, label=body.label, mode=body.mode, limit=MAX_KEYS
    )
    return Status(201, {**KeyOut.of(key), "secret": secret})


@router.get("/keys", response=KeyListOut)
def list_keys(request: HttpRequest) -> dict[str, Any]:
    """The keys that still work, newest first (a test key sees test keys only)."""
    keys = partner_keys_usable(request.auth, mode=_visible_mode(request))
    return {"data": [KeyOut.of(key) for key in keys]}


@router.post("/keys/{key_id}/roll", response={201: RolledOut})
def roll_key(request: HttpRequest, key_id: str, body: RollIn | None = None) -> Status:
    """Stripe's "roll key": a new key of the same mode and label (its ``secret`` shown in
    this answer only); the old one keeps working for ``expires_in`` seconds (default a day,
    at most 7 days, 0: it stops at once), then answers 401 ``key_expired``."""
    old = _own_key(request, key_id)
    expires_in = timedelta(seconds=(body or RollIn()).expires_in)
    new, secret = partner_key_roll(key=old, actor=request.actor, expires_in=expires_in)
    old.refresh_from_db()
    return Status(201, {**KeyOut.of(new), "secret": secret, "rolled": KeyOut.of(old)})


@router.delete("/keys/{key_id}", response={204: None})
def revoke_key(request: HttpRequest, key_id: str) -> Status:
    """The key stops working at once (401 ``key_revoked``). Not the key making this call:
    roll it instead, or revoke it with another key."""
    key = _own_key(request, key_id)
    if key.pk == request.partner_key.pk:
        raise OnrampError(
            "key_in_use",
            "This is the key making this request: roll it (POST /api/v1/keys/{id}/roll) or "
            "revoke it with another key.",
            409,
        )
    partner_key_revoke(key=key, actor=request.actor)
    return Status(204, None)


def _visible_mode(request: HttpRequest) -> str | None:
    return None if request.mode == Mode.LIVE else Mode.TEST


def _own_key(request: HttpRequest, key_id: str) -> PartnerKey:
    """One of the partner's keys (a test key: one of its test keys), or 404."""
    return partner_object(PartnerKey, request.auth, key_id, mode=_visible_mode(request))
