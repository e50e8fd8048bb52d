"""Partner API for the partner itself: ``GET /partner`` and ``PATCH /partner`` (branding
defaults: display name, logo, primary colour, support and privacy links, the first screen's
lead text and that text per language; the models Onramp syncs). Mounted on ``api.py``'s API;
the same errors and auth."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from connections.api.schemas import PartnerIn, live_key_only
from connections.models import Partner
from connections.services.partners import partner_update_branding
from connections.syncs.declared import partner_sync_models_set

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
    sync_models: list[str] | None  # null: every model a connection's system offers
    mode: str  # of the key that asks

    @staticmethod
    def of(partner: Partner, mode: str) -> dict:
        fields = [name for name in PartnerOut.model_fields if name != "mode"]
        return {name: getattr(partner, name) for name in fields} | {"mode": mode}


@router.get("/partner", response=PartnerOut)
def get_partner(request: HttpRequest) -> dict:
    return PartnerOut.of(request.auth, request.mode)


@router.patch("/partner", response=PartnerOut)
def update_partner(request: HttpRequest, body: PartnerIn) -> dict:
    """Change the flow's branding defaults (a link session's ``branding`` overrides them) and
    which models Onramp syncs (``sync_models``: a model left out is no longer read, and what
    was synced of it is erased)."""
    live_key_only(request)
    values = body.model_dump(exclude_unset=True)
    partner, actor = request.auth, request.actor
    if "sync_models" in values:
        models = values.pop("sync_models")
        partner = partner_sync_models_set(partner=partner, models=models, actor=actor)
        if not values:
            return PartnerOut.of(partner, request.mode)
    partner = partner_update_branding(partner=partner, values=values, actor=actor)
    return PartnerOut.of(partner, request.mode)
