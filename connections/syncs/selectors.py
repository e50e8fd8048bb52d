"""Reads for the partner API: a connection's synced records as a change feed, one record,
and its syncs' states."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db.models import TextField, Value
from django.db.models.functions import Cast

from catalog.registry import get_definition
from connections.models import Connection
from connections.syncs.models import SyncedRecord, SyncRun, SyncState, SyncStatus


class FeedRow(NamedTuple):
    """One record of a page, its JSON as stored (text: never decoded to be encoded again)."""

    change_seq: int
    remote_id: str
    deleted: bool
    remote_modified_at: datetime | None
    changed_at: datetime
    data: str
    raw: str | None


def records_page(
    *,
    connection: Connection,
    model: str,
    after_seq: int,
    modified_after: datetime | None,
    include_deleted: bool,
    size: int,
    raw: bool = False,
) -> tuple[list[FeedRow], bool]:
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
    # The raw column is often the largest: read only when asked for.
    source = Cast("raw", TextField()) if raw else Value(None, output_field=TextField())
    columns = rows.annotate(data_text=Cast("data", TextField()), raw_text=source)
    page = [
        FeedRow(*row)
        for row in columns.order_by("change_seq").values_list(
            "change_seq",
            "remote_id",
            "deleted",
            "remote_modified_at",
            "changed_at",
            "data_text",
            "raw_text",
        )[: size + 1]
    ]
    return page[:size], len(page) > size


def feed_json(rows: list[FeedRow], next_cursor: str | None) -> str:
    """A page of the feed as the API sends it: each record's stored JSON (validated when it
    was written) with its meta fields spliced in, so a page costs no decode and re-encode."""
    records = ",".join(_record_json(row) for row in rows)
    return f'{{"data":[{records}],"next_cursor":{json.dumps(next_cursor)}}}'


def _record_json(row: FeedRow) -> str:
    meta = json.dumps(
        {
            "id": row.remote_id,
            "deleted": row.deleted,
            "modified_at": _iso(row.remote_modified_at),
            "changed_at": _iso(row.changed_at),
        }
    )
    body = row.data.strip()[1:-1].strip()  # a JSON object's members
    raw = row.raw if row.raw is not None else "null"
    return "{" + (body + "," if body else "") + meta[1:-1] + ',"raw":' + raw + "}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def record_get(*, connection: Connection, model: str, remote_id: str) -> SyncedRecord | None:
    return SyncedRecord.objects.filter(
        connection=connection, model=model, remote_id=remote_id[:255]
    ).first()


def record_shape(record: SyncedRecord, *, raw: bool) -> dict[str, Any]:
    """The record as the API gives it: JSON-ready (``data`` was validated when written)."""
    return {
        **record.data,
        "id": record.remote_id,
        "deleted": record.deleted,
        "modified_at": _iso(record.remote_modified_at),
        "changed_at": _iso(record.changed_at),
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
