"""Partner API for the partner itself: ``GET /partner`` and ``PATCH /partner`` (branding
defaults: display name, logo, primary colour, support and privacy links, the first screen's
lead text and that text per language). Mounted on ``api.py``'s API; the same errors and
auth."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from connections.api.schemas import PartnerBrandingIn, live_key_only
from connections.models import Partner
from connections.services.partners import partner_update_branding

router = Router(tags=["partner"])


class PartnerOut(Schema):
    id: str
    name: str
    display_name: str
    logo_url: str
    primary_colour: str
    support_url: str
    privacy_url: str
    lead_text: str
    lead_text_translations: dict[str, str]
    allowed_origins: list[str]
    mode: str  # of the key that asks

    @staticmethod
    def of(partner: Partner, mode: str) -> dict:
        fields = [name for name in PartnerOut.model_fields if name != "mode"]
        return {name: getattr(partner, name) for name in fields} | {"mode": mode}


@router.get("/partner", response=PartnerOut)
def get_partner(request: HttpRequest) -> dict:
    return PartnerOut.of(request.auth, request.mode)


@router.patch("/partner", response=PartnerOut)
def update_partner(request: HttpRequest, body: PartnerBrandingIn) -> dict:
    """Change the flow's branding defaults; a link session's ``branding`` overrides them."""
    live_key_only(request)
    partner = partner_update_branding(
        partner=request.auth, values=body.model_dump(exclude_unset=True), actor=request.actor
    )
    return PartnerOut.of(partner, request.mode)
