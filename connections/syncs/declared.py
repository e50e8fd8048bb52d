"""Which unified models a partner reads (``PATCH /partner`` ``sync_models``), and what
follows from a change: a model no longer read stops syncing for every connection of the
partner and its synced records are erased (Onramp keeps no customer data nobody reads)."""

from __future__ import annotations

from django.db import transaction

from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import Partner
from connections.services.audit import event_record
from connections.syncs.models import SyncedRecord, SyncState
from connections.syncs.schemas import SyncModel


def sync_models_checked(models: list[str] | None) -> list[str] | None:
    """The declared models, each known and once, in the order they are defined; ``None``
    (every model) as it is. ``invalid_sync_models`` naming what is not a model."""
    if models is None:
        return None
    known = [model.value for model in SyncModel]
    if unknown := [str(model)[:40] for model in models if model not in known]:
        raise OnrampError(
            "invalid_sync_models",
            f"{unknown[0]!r} is not a model Onramp syncs; the models are {', '.join(known)}.",
        )
    return [model for model in known if model in models]


def partner_sync_models_set(*, partner: Partner, models: list[str] | None, actor: str) -> Partner:
    """Declare what the partner reads; what it stops reading is erased at once."""
    declared = sync_models_checked(models)
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        dropped = sorted(set(_read_by(partner)) - set(_read_by_declared(declared)))
        partner.sync_models = declared
        partner.save(update_fields=["sync_models"])
        if dropped:
            SyncState.objects.filter(connection__partner=partner, model__in=dropped).delete()
            SyncedRecord.objects.filter(connection__partner=partner, model__in=dropped).delete()
        event_record(
            partner=partner,
            kind=EventKind.PARTNER_UPDATED,
            actor=actor,
            data={"fields": ["sync_models"], "sync_models": declared, "erased": dropped},
        )
    return partner


def _read_by(partner: Partner) -> list[str]:
    return _read_by_declared(partner.sync_models)


def _read_by_declared(declared: list[str] | None) -> list[str]:
    return [model.value for model in SyncModel] if declared is None else declared
