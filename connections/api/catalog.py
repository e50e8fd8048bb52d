"""Partner API for the catalog: the systems a partner may offer (``GET /systems``) and its own
OAuth apps for systems whose customers sign in (``PUT /oauth-apps/{system}``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from ninja import Router, Schema
from pydantic import Field

from catalog.models import System
from catalog.registry import get_definition
from connections.api.schemas import Strict, live_key_only
from connections.models import Mode
from connections.schemes import SCHEMES
from connections.services.link_sessions import TEST_SYSTEMS
from connections.services.oauth import oauth_app_set, redirect_uri

router = Router(tags=["catalog"])


class MethodOut(Schema):
    id: str
    label: str
    scheme: str
    recommended: bool
    signs_in: bool
    oauth_app_registered: bool | None


class SystemOut(Schema):
    slug: str
    name: str
    vendor: str
    categories: list[str]
    logo_url: str
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
    """Every system end users may pick, with its methods and whether your OAuth app is set
    for those where they sign in."""
    registered = set(request.auth.oauth_apps.values_list("system", flat=True))
    rows = System.objects.listed().order_by("-popularity", "name")
    if request.mode == Mode.TEST:
        rows = rows.filter(slug__in=TEST_SYSTEMS)
    return {"data": [_system(row, registered) for row in rows if get_definition(row.slug)]}


@router.put("/oauth-apps/{system}", response=OAuthAppOut)
def set_oauth_app(request: HttpRequest, system: str, body: OAuthAppIn) -> dict[str, str]:
    """Your own OAuth client for a system (the consent screen shows your app). Register
    ``redirect_uri`` in it. The secret is stored encrypted and never returned."""
    live_key_only(request)
    app = oauth_app_set(
        partner=request.auth,
        system=system[:63],
        client_id=body.client_id,
        client_secret=body.client_secret,
        actor=request.actor,
    )
    return {"system": app.system, "client_id": app.client_id, "redirect_uri": redirect_uri()}


def _system(row: System, registered: set[str]) -> dict[str, Any]:
    definition = get_definition(row.slug)
    methods = []
    for method in definition.methods:
        signs_in = SCHEMES[method.scheme].step == "oauth_sign_in"
        methods.append(
            {
                "id": method.id,
                "label": method.label,
                "scheme": method.scheme,
                "recommended": method.recommended,
                "signs_in": signs_in,
                "oauth_app_registered": (row.slug in registered) if signs_in else None,
            }
        )
    logo = f"{settings.ONRAMP_PUBLIC_URL}{static(row.logo)}" if row.logo else ""
    return {
        "slug": row.slug,
        "name": row.name,
        "vendor": row.vendor,
        "categories": row.categories,
        "logo_url": logo,
        "methods": methods,
    }
