"""Reads for the partner API: a connection's synced records as a change feed, one record,
and its syncs' states."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog.registry import get_definition
from connections.models import Connection
from connections.syncs.models import SyncedRecord, SyncRun, SyncState, SyncStatus


def records_page(
    *,
    connection: Connection,
    model: str,
    after_seq: int,
    modified_after: datetime | None,
    include_deleted: bool,
    size: int,
    raw: bool = False,
) -> tuple[list[SyncedRecord], bool]:
    """The next ``size`` records after change number ``after_seq``, oldest change first
    (the index ``synced_record_feed``), and whether more follow."""
    rows = SyncedRecord.objects.filter(
        connection=connection, model=model, change_seq__gt=after_seq
    )
    if modified_after is not None:
        if modified_after.tzinfo is None:  # a time without a zone is UTC, as every time here
            modified_after = modified_after.replace(tzinfo=UTC)
        rows = rows.filter(changed_at__gt=modified_after)
    if not include_deleted:
        rows = rows.filter(deleted=False)
    if not raw:
        rows = rows.defer("raw")  # often the largest column, and not asked for
    page = list(rows.order_by("change_seq")[: size + 1])
    return page[:size], len(page) > size


def record_get(*, connection: Connection, model: str, remote_id: str) -> SyncedRecord | None:
    return SyncedRecord.objects.filter(
        connection=connection, model=model, remote_id=remote_id[:255]
    ).first()


def record_shape(record: SyncedRecord, *, raw: bool) -> dict[str, Any]:
    """The record as the API gives it: JSON-ready (``data`` was validated when written)."""
    modified = record.remote_modified_at
    return {
        **record.data,
        "id": record.remote_id,
        "deleted": record.deleted,
        "modified_at": modified.isoformat().replace("+00:00", "Z") if modified else None,
        "changed_at": record.changed_at.isoformat().replace("+00:00", "Z"),
        "raw": record.raw if raw else None,
    }


def sync_overview(*, connection: Connection) -> list[dict[str, Any]]:
    """Per model the system syncs: its state, last success, next run, the last run's counts
    and the last error."""
    definition = get_definition(connection.system_id)
    models = list(definition.syncs) if definition else []
    states = SyncState.objects.filter(connection=connection).select_related("run")
    by_model = {state.model: state for state in states}
    return [_overview(model, by_model.get(model)) for model in models]


def _overview(model: str, state: SyncState | None) -> dict[str, Any]:
    run = state.run if state else None  # a state's run is its latest
    return {
        "model": model,
        "status": state.status if state else SyncStatus.IDLE,
        "mode": state.mode if state else None,
        "last_success_at": state.last_success_at if state else None,
        "next_run_at": state.next_run_at if state else None,
        "last_run": _run(run) if run else None,
        "last_error": {"code": state.last_error_code, "message": state.last_error_message}
        if state and state.last_error_code
        else None,
    }


def _run(run: SyncRun) -> dict[str, Any]:
    counts = ("added", "updated", "deleted", "unchanged", "failed")
    return {
        "id": run.id,
        "mode": run.mode,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        **{name: getattr(run, name) for name in counts},
        "errors": run.errors,
    }
