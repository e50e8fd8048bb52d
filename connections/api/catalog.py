"""Partner API for the catalog: the systems a partner may offer (``GET /systems``) and its own
OAuth apps for systems whose customers sign in (``PUT /oauth-apps/{system}``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from connections.api.schemas import Strict, live_key_only
from connections.selectors import partner_catalog
from connections.services.oauth import oauth_app_set, redirect_uri

router = Router(tags=["catalog"])


class MethodOut(Schema):
    id: str
    label: str
    scheme: str
    recommended: bool
    signs_in: bool
    oauth_app_registered: bool | None
    available: bool = Field(description="End users are offered this method.")
    unavailable_reason: str | None = Field(
        description="Why not: `oauth_app_missing` (the method signs in to your OAuth app or "
        "sends your app's key; register it: `PUT /oauth-apps/{system}`)."
    )


class SystemOut(Schema):
    slug: str
    name: str
    vendor: str
    categories: list[str]
    logo_url: str
    available: bool = Field(description="End users are offered this system in the flow.")
    unavailable_reason: str | None = Field(
        description="Why not: `oauth_app_missing` (no method usable until your OAuth app is "
        "registered) or `coming_soon`."
    )
    methods: list[MethodOut]


class SystemListOut(Schema):
    data: list[SystemOut]


class OAuthAppIn(Strict):
    client_id: str = Field(min_length=1, max_length=300)
    client_secret: str = Field(min_length=1, max_length=500)


class OAuthAppOut(Schema):
    system: str
    client_id: str
    redirect_uri: str


@router.get("/systems", response=SystemListOut)
def list_systems(request: HttpRequest) -> dict[str, Any]:
    """Every system you may offer, with its methods: whether your OAuth app is set for those
    where end users sign in, and whether end users are offered each (a sign-in method waits
    for your OAuth app; a system with no method offered is not shown in the flow)."""
    return {"data": partner_catalog(request.auth, mode=request.mode)}


@router.put("/oauth-apps/{system}", response=OAuthAppOut)
def set_oauth_app(request: HttpRequest, system: str, body: OAuthAppIn) -> dict[str, str]:
    """Your own app for a system: the OAuth client its customers sign in to (register
    ``redirect_uri`` in it), or, where each call carries your app's key beside the customer's
    credential (Visma e-conomic, ServiceTitan, Priority's application licence), that app's id
    and key as ``client_id`` and ``client_secret``. The secret is stored encrypted and never
    returned."""
    live_key_only(request)
    app = oauth_app_set(
        partner=request.auth,
        system=system[:63],
        client_id=body.client_id,
        client_secret=body.client_secret,
        actor=request.actor,
    )
    return {"system": app.system, "client_id": app.client_id, "redirect_uri": redirect_uri()}
