"""Sync runs: requested (API) or due (schedule), claimed by one worker at a time, run page by
page (``engine.py``), and ended with a ``sync.completed`` or ``sync.failed`` webhook.

A state is claimed with a conditional update (queued, waiting whose time has come, or running
with a lapsed lease), so two workers never run one (connection, model). A run goes on from its
checkpoint whoever runs it next: after ``ONRAMP_SYNC_PAGES_PER_TASK`` pages (a new task), a
429 (after its Retry-After), or a worker that died (its lease lapses; ``schedule.py``).
"""

from __future__ import annotations

import logging
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.mappings import SyncSpec
from catalog.registry import get_definition
from connections.dispatch import Task, task_send
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import Connection, ConnectionStatus
from connections.services.audit import event_record
from connections.syncs.engine import (
    SyncLost,
    SyncStopped,
    page_read,
    page_store,
    unlisted_delete,
)
from connections.syncs.models import BUSY, RunStatus, SyncMode, SyncRun, SyncState, SyncStatus
from connections.syncs.remote import RemoteFailed, RemoteThrottled
from connections.syncs.schemas import SyncModel

ACTOR = "onramp:sync"
logger = logging.getLogger(__name__)


def sync_spec(connection: Connection, model: str) -> SyncSpec | None:
    definition = get_definition(connection.system_id)
    return definition.syncs.get(model) if definition else None


def synced_models(connection: Connection) -> list[SyncModel]:
    """The models this connection syncs: its system offers them and its partner reads them."""
    return [m for m in SyncModel if sync_spec(connection, m) and connection.partner.reads(m)]


def sync_request(*, connection: Connection, model: SyncModel, full: bool, actor: str) -> SyncState:
    """Start a run now (``POST /syncs``); 409 ``sync_running`` while one is under way."""
    if sync_spec(connection, model) is None:
        raise OnrampError("model_not_synced", f"This system has no {model.value} to sync.", 400)
    if not connection.partner.reads(model):
        message = f"{model.value} is not among your sync_models (PATCH /partner to add it)."
        raise OnrampError("model_not_synced", message, 400)
    with transaction.atomic():
        SyncState.objects.get_or_create(connection=connection, model=model)
        state = SyncState.objects.select_for_update().get(connection=connection, model=model)
        if state.status in BUSY:
            raise OnrampError("sync_running", "A sync of this model is already running.", 409)
        if full:
            state.mode = SyncMode.FULL
        state.status, state.next_run_at = SyncStatus.QUEUED, timezone.now()
        state.save(update_fields=["mode", "status", "next_run_at"])
        event_record(
            partner=connection.partner,
            kind=EventKind.SYNC_REQUESTED,
            actor=actor,
            connection=connection,
            data={"model": model.value, "mode": state.mode},
        )
        sync_send_later(state.pk)
    return state


def sync_send_later(state_id: str, countdown: float = 0) -> None:
    transaction.on_commit(
        lambda: task_send(Task.RUN_SYNC, SyncState, state_id, countdown=countdown)
    )


def sync_run(*, state_id: str, pages: int | None = None) -> None:
    """Run (or go on with) the state's sync for up to ``pages`` pages, then hand the rest to
    a new task. Safe to call twice: only the worker that claims the state runs it."""
    state = _claim(state_id)
    if state is None:
        return
    connection = state.connection
    spec = sync_spec(connection, state.model)
    if spec is None or connection.status != ConnectionStatus.ACTIVE:
        return _stop(state)
    run = _resumed(state) or _start(state)
    for _ in range(pages or settings.ONRAMP_SYNC_PAGES_PER_TASK):
        if state.checkpoint.get("done"):
            return _finish(state, run)
        try:
            page = page_read(connection, spec, SyncModel(state.model), state)
            state = page_store(state_id=state.pk, run_id=run.pk, claim=state.claimed_by, page=page)
        except RemoteThrottled as throttled:
            return _wait(state, run, throttled.retry_after)
        except RemoteFailed as failed:
            return _fail(state, run, failed.code, failed.message)
        except SyncStopped:
            return _stop(state)
        except SyncLost:
            return None  # another worker goes on with it
        except Exception:  # a bug of ours must not retry the same page forever
            logger.exception("sync %s failed on a page", state.pk)
            return _fail(state, run, "internal_error", "Onramp could not process a page.")
    if state.checkpoint.get("done"):
        return _finish(state, run)
    _hand_on(state, run)


def _claim(state_id: str) -> SyncState | None:
    now = timezone.now()
    claimable = (
        Q(status=SyncStatus.QUEUED)
        | Q(status=SyncStatus.WAITING, next_run_at__lte=now)
        | Q(status=SyncStatus.RUNNING, claimed_until__lt=now)
    )
    lease = now + timedelta(seconds=settings.ONRAMP_SYNC_LEASE)
    if not SyncState.objects.filter(claimable, pk=state_id).update(
        status=SyncStatus.RUNNING, claimed_until=lease, claimed_by=secrets.token_hex(16)
    ):
        return None
    return SyncState.objects.select_related("connection", "run").get(pk=state_id)


def _resumed(state: SyncState) -> SyncRun | None:
    run = state.run
    return run if run is not None and run.status == RunStatus.RUNNING else None


def _start(state: SyncState) -> SyncRun:
    """A new run: over the history window (initial, full), or since the high-water mark
    less the overlap (incremental)."""
    now = timezone.now()
    since = now - timedelta(days=settings.ONRAMP_SYNC_HISTORY_DAYS)
    reached = state.high_water_mark or state.last_success_at
    mode = SyncMode.FULL if state.mode == SyncMode.FULL else SyncMode.INITIAL
    if reached and mode != SyncMode.FULL:
        mode = SyncMode.INCREMENTAL
        since = reached - timedelta(seconds=settings.ONRAMP_SYNC_OVERLAP)
    run = SyncRun.objects.create(state=state, mode=mode, since=since, started_at=now)
    state.run, state.checkpoint = run, {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
    state.save(update_fields=["run", "checkpoint"])
    return run


def _finish(state: SyncState, run: SyncRun) -> None:
    with transaction.atomic():
        state = _locked_own(state, run)
        if state is None:
            return
        run.refresh_from_db()
        spec = sync_spec(state.connection, state.model)
        if run.mode == SyncMode.FULL and spec and spec.deletions.style == "reconcile":
            unlisted_delete(state, run, spec)
            run.save(update_fields=["deleted"])
        run = _ended(run, RunStatus.SUCCEEDED)
        newest = state.checkpoint.get("newest")
        if newest:
            newest = datetime.fromisoformat(newest.replace("Z", "+00:00"))
            state.high_water_mark = max(filter(None, [state.high_water_mark, newest]))
        state.last_success_at, state.mode = run.started_at, SyncMode.INCREMENTAL
        state.last_error_code = state.last_error_message = ""
        _idle(state)
        counts = {k: getattr(run, k) for k in ("added", "updated", "deleted", "failed")}
        modified_after = run.started_at.isoformat()
        _event(state, EventKind.SYNC_COMPLETED, run, counts | {"modified_after": modified_after})


def _fail(state: SyncState, run: SyncRun, code: str, message: str) -> None:
    """The system would not give a page: the run ends; the next starts again from the same
    high-water mark (nothing is skipped)."""
    with transaction.atomic():
        state = _locked_own(state, run)
        if state is None:
            return
        run = _ended(run, RunStatus.FAILED)  # (reloads the run: its error is set after)
        run.error_code, run.error_message = code, message
        run.save(update_fields=["error_code", "error_message"])
        state.last_error_code, state.last_error_message = code, message
        _idle(state)
        _event(state, EventKind.SYNC_FAILED, run, {"error": {"code": code, "message": message}})


def _stop(state: SyncState) -> None:
    """The connection is not active (or no longer syncs this model): end quietly. Updates
    only, as a revocation may have erased these rows."""
    now = timezone.now()
    if state.run_id:
        SyncRun.objects.filter(pk=state.run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.STOPPED, finished_at=now
        )
    SyncState.objects.filter(pk=state.pk, claimed_by=state.claimed_by).update(
        status=SyncStatus.IDLE, checkpoint={}, claimed_until=None, next_run_at=_next_run(now)
    )


def _wait(state: SyncState, run: SyncRun, retry_after: int) -> None:
    """Asked to slow down: the run goes on from its checkpoint after ``retry_after``."""
    resume = timezone.now() + timedelta(seconds=retry_after)
    with transaction.atomic():
        if _own(state, run).update(
            status=SyncStatus.WAITING, next_run_at=resume, claimed_until=None
        ):
            sync_send_later(state.pk, countdown=retry_after)


def _hand_on(state: SyncState, run: SyncRun) -> None:
    with transaction.atomic():
        if _own(state, run).update(status=SyncStatus.QUEUED, claimed_until=None):
            sync_send_later(state.pk)


def _locked_own(state: SyncState, run: SyncRun) -> SyncState | None:
    """The state, locked (after its connection, the order every writer takes), if this run
    is still its own."""
    list(Connection.objects.select_for_update(of=("self",)).filter(pk=state.connection_id))
    return _own(state, run).select_for_update().first()


def _own(state: SyncState, run: SyncRun) -> Any:
    """The state, if this worker still holds its claim on this run."""
    return SyncState.objects.filter(
        pk=state.pk, run=run, status=SyncStatus.RUNNING, claimed_by=state.claimed_by
    )


def _ended(run: SyncRun, status: RunStatus) -> SyncRun:
    run.refresh_from_db()
    run.status, run.finished_at = status, timezone.now()
    run.save()
    return run


def _idle(state: SyncState) -> None:
    state.status, state.checkpoint, state.claimed_until = SyncStatus.IDLE, {}, None
    state.next_run_at = _next_run(timezone.now())
    state.save()


def _next_run(after: datetime) -> datetime:
    spread = settings.ONRAMP_SYNC_INTERVAL * random.uniform(0.9, 1.1)  # noqa: S311
    return after + timedelta(seconds=spread)


def _event(state: SyncState, kind: EventKind, run: SyncRun, data: dict) -> None:
    event_record(
        partner=state.connection.partner,
        kind=kind,
        actor=ACTOR,
        connection=state.connection,
        data={"model": state.model, "mode": run.mode, **data},
    )
