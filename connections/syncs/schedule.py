"""The schedule (Celery beat, every ``ONRAMP_SYNC_SCHEDULE_INTERVAL``): every active
connection's models sync about every ``ONRAMP_SYNC_INTERVAL``; a run whose worker died
(lease lapsed) or whose message was lost goes on from its checkpoint; a rate-limited run goes
on once its Retry-After has passed. Connections that are not active are left alone (an
invalid one resumes once restored; a revoked one has no syncs left)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from catalog.registry import definitions
from connections.models import Connection, ConnectionStatus, Partner
from connections.syncs.models import SyncState, SyncStatus
from connections.syncs.runs import sync_send_later

BATCH = 500


def syncs_schedule() -> int:
    """Create the states new connections need, and send the runs that are due; how many."""
    _states_create()
    now = timezone.now()
    lost = now - timedelta(seconds=settings.ONRAMP_SYNC_LEASE)
    due = (
        Q(status=SyncStatus.IDLE, next_run_at__lte=now)
        | Q(status=SyncStatus.WAITING, next_run_at__lte=now)
        | Q(status=SyncStatus.RUNNING, claimed_until__lt=now)
        | Q(status=SyncStatus.QUEUED, dispatched_at__lt=lost)
        | Q(status=SyncStatus.QUEUED, dispatched_at=None)
    )
    ids = list(
        SyncState.objects.filter(due, connection__status=ConnectionStatus.ACTIVE)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    # Idle ones become queued (so an API request meanwhile is told one is on its way);
    # running ones with a lapsed lease stay running: the worker's claim takes them over.
    SyncState.objects.filter(pk__in=ids, status=SyncStatus.IDLE).update(status=SyncStatus.QUEUED)
    for state_id in ids:
        sync_send_later(state_id)
    return len(ids)


def _states_create() -> None:
    """A state per synced model of each active connection that has none yet (a model its
    partner reads), due within a minute or so (spread, so a thousand new connections do not
    start at once)."""
    now = timezone.now()
    declared = dict(Partner.objects.exclude(sync_models=None).values_list("pk", "sync_models"))
    for slug, definition in definitions().items():
        if not definition.syncs:
            continue
        connections = Connection.objects.filter(system_id=slug, status=ConnectionStatus.ACTIVE)
        for model in definition.syncs:
            not_read = [pk for pk, models in declared.items() if model not in models]
            missing = (
                connections.exclude(syncs__model=model)
                .exclude(partner_id__in=not_read)
                .values_list("pk", flat=True)
            )
            SyncState.objects.bulk_create(
                [
                    SyncState(
                        connection_id=pk,
                        model=model,
                        next_run_at=now + timedelta(seconds=random.uniform(0, 60)),  # noqa: S311
                    )
                    for pk in missing[:BATCH]
                ],
                ignore_conflicts=True,
            )
