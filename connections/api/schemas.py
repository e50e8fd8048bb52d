"""Request and response shapes of the partner API (``api.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connections.api.cursors import MAX_LENGTH as MAX_CURSOR_LENGTH
from connections.errors import OnrampError
from connections.models import Connection, ConnectionStatus


class Clean(Schema):
    """Text a database can store: PostgreSQL refuses NUL characters, so we refuse them first."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


def live_key_only(request: HttpRequest) -> None:
    """Settings shared by live and test (OAuth apps, the partner's branding) and live keys
    themselves are a live key's to read and change; a test key builds safely. (Webhook
    endpoints are per mode: each key sees its own mode's.)"""
    if getattr(request, "mode", "live") != "live":
        raise OnrampError(
            "live_key_required", "Use a live key: test keys cannot use this endpoint.", 403
        )


class Strict(Clean):
    model_config = ConfigDict(extra="forbid")


class EndUserIn(Strict):
    id: str = Field(min_length=1, max_length=200)
    email: str = Field(default="", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    organization: str = Field(default="", max_length=200)


class BrandingIn(Strict):
    """How the flow looks: each value optional (checked by ``connections/branding.py``)."""

    display_name: str | None = Field(default=None, max_length=120)
    logo_url: str | None = Field(default=None, max_length=500)
    primary_colour: str | None = Field(default=None, max_length=7)
    support_url: str | None = Field(default=None, max_length=500)
    privacy_url: str | None = Field(default=None, max_length=500)
    lead_text: str | None = Field(default=None, max_length=300)


class PartnerBrandingIn(BrandingIn):
    """The partner's defaults: also the lead text per language, e.g. ``{"de": "…"}``, merged
    into the stored ones (an empty or null text removes a language's)."""

    lead_text_translations: dict[str, str | None] | None = Field(default=None, max_length=8)


class PartnerIn(PartnerBrandingIn):
    """``PATCH /partner``: branding defaults, and ``sync_models``: the unified models Onramp
    reads for the partner (null: every model a system offers; []: none)."""

    sync_models: list[str] | None = Field(default=None, max_length=10)


class LinkSessionIn(Strict):
    end_user: EndUserIn
    systems: list[str] = Field(default_factory=list, max_length=50)
    connection_id: str | None = Field(default=None, max_length=32)
    allowed_origin: str | None = Field(default=None, max_length=300)
    redirect_url: str | None = Field(default=None, max_length=1000)
    locale: str = Field(default="", max_length=16)
    expires_in: int = Field(default=1800, ge=300, le=604800)
    branding: BrandingIn | None = None

    @field_validator("systems")
    @classmethod
    def _short_slugs(cls, value: list[str]) -> list[str]:
        if any(not slug or len(slug) > 63 for slug in value):
            raise ValueError("each system must be a catalog slug")
        return value


class LinkSessionOut(Schema):
    id: str
    link_token: str
    url: str
    expires_at: datetime


class LinkSessionStatusOut(Schema):
    id: str
    status: str
    expires_at: datetime
    connection_id: str | None
    public_token: str | None = None


class TokenExchangeIn(Strict):
    public_token: str = Field(min_length=1, max_length=200)


class TokenExchangeOut(Schema):
    connection_id: str
    access_token: str
    system: str
    status: str


# Shapes a list repeats per row are plain pydantic models: ninja's ``Schema`` reads each value
# through a getter made for ORM objects, a third of a 50-row page's time; ours are dicts.


class ErrorOut(BaseModel):
    code: str
    message: str


class ConnectionOut(BaseModel):
    id: str
    system: str
    method: str
    status: str
    end_user_id: str
    config: dict[str, Any]
    created_at: datetime
    last_validated_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    last_error: ErrorOut | None

    @staticmethod
    def of(connection: Connection) -> dict[str, Any]:
        error = (
            {"code": connection.last_error_code, "message": connection.last_error_message}
            if connection.last_error_code
            else None
        )
        return {
            "id": connection.id,
            "system": connection.system_id,
            "method": connection.method,
            "status": connection.status,
            "end_user_id": connection.end_user_id,
            "config": connection.config,
            "created_at": connection.created_at,
            "last_validated_at": connection.last_validated_at,
            "last_checked_at": connection.last_checked_at,
            "next_check_at": connection.next_check_at,
            "last_error": error,
        }


class ConnectionListOut(BaseModel):
    data: list[ConnectionOut]
    has_more: bool
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null at the end of the list."
    )


# How deep ``offset`` may reach: it is kept for clients written before cursors, and an offset
# costs the rows it skips (a cursor costs the same at any depth).
MAX_OFFSET = 10_000


class ConnectionFilters(Clean):
    end_user_id: str | None = Field(default=None, max_length=200)
    system: str | None = Field(default=None, max_length=63)
    status: str | None = Field(default=None, max_length=16)
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=MAX_CURSOR_LENGTH)
    offset: int = Field(default=0, ge=0)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        """A status no connection can have would list nothing: say so instead."""
        if value is not None and value not in ConnectionStatus.values:
            raise ValueError(f"one of {', '.join(ConnectionStatus.values)}")
        return value

    @field_validator("offset")
    @classmethod
    def _bounded_offset(cls, value: int) -> int:
        if value > MAX_OFFSET:
            raise ValueError(
                f"at most {MAX_OFFSET}: page deeper with `cursor` (each page's next_cursor)"
            )
        return value

    @model_validator(mode="after")
    def _cursor_or_offset(self) -> ConnectionFilters:
        if self.cursor is not None and self.offset:
            raise ValueError("give `cursor` or `offset`, not both")
        return self


class RotateOut(Schema):
    access_token: str


class RevalidateOut(Schema):
    attempt_id: str
    status: str
    connection: ConnectionOut


class IntrospectionOut(Schema):
    id: str
    system: str
    status: str
    end_user_id: str
    config: dict[str, Any]
