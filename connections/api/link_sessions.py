"""Partner API for link sessions: ``POST /link-sessions`` and ``GET /link-sessions/{id}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from connections.api.auth import own
from connections.api.schemas import LinkSessionIn, LinkSessionOut, LinkSessionStatusOut
from connections.models import LinkSession
from connections.selectors import link_session_status
from connections.services.link_sessions import (
    LinkSessionSpec,
    link_session_create,
    link_session_url,
    public_token_outstanding,
)

router = Router(tags=["link sessions"])


@router.post("/link-sessions", response={201: LinkSessionOut})
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


@router.get("/link-sessions/{session_id}", response=LinkSessionStatusOut)
def get_link_session(request: HttpRequest, session_id: str) -> dict[str, Any]:
    """Where a session stands. Once validated it also returns the session's one-time
    ``public_token`` until it is exchanged or expires (for hosted links). Reading changes
    nothing."""
    session = own(LinkSession, request, session_id)
    public_token = public_token_outstanding(session)
    return {
        "id": session.id,
        "status": link_session_status(session),
        "expires_at": session.expires_at,
        "connection_id": session.connection_id,
        "public_token": public_token,
    }
