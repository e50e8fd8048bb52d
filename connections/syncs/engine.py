"""One page of a run: read it from the system (signed as the proxy signs), map its records,
and write what changed with the run's checkpoint, in one transaction.

A page is all or nothing: a worker killed before the commit leaves the checkpoint at the page
before, so the resumed run reads the same page again (no gap) and finds what it already wrote
unchanged (no duplicate). Every system is run by this one engine, from its definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.mappings import SyncSpec
from connections.models import Connection, ConnectionStatus
from connections.syncs.details import details_attach
from connections.syncs.mapping import Mapped, MappingError, content_hash, dig, record_map
from connections.syncs.models import SyncedRecord, SyncMode, SyncRun, SyncState, SyncStatus
from connections.syncs.pages import (
    PagingError,
    Position,
    next_position,
    page_query,
    render,
    template_values,
)
from connections.syncs.remote import RemoteFailed, remote_answer
from connections.syncs.schemas import SyncModel

MAX_REPORTED = 20  # record errors kept per run


class SyncStopped(Exception):
    """The connection is no longer active (or was revoked: its syncs are gone)."""


class SyncLost(Exception):
    """This worker's claim lapsed and another worker took the run over."""


@dataclass
class Page:
    mapped: list[Mapped] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    following: Position = None
    reconcile: bool = False  # deletions show only as absence from a full run's listing


def page_read(connection: Connection, spec: SyncSpec, model: SyncModel, state: SyncState) -> Page:
    """Read and map the page at the state's checkpoint; raise ``RemoteThrottled`` or
    ``RemoteFailed`` when the system will not give it."""
    position = state.checkpoint.get("position")
    answer, link = _fetch(connection, spec, state.checkpoint.get("since"), position)
    records = dig(answer, spec.records)
    if not isinstance(records, list):
        raise RemoteFailed("unexpected_answer", f"No list of records at {spec.records!r}.")
    try:
        following = next_position(
            spec.pagination, position, answer, records, link=link, path=spec.path
        )
    except PagingError as exc:
        raise RemoteFailed("unexpected_answer", str(exc)) from None
    page = Page(following=following, reconcile=spec.deletions.style == "reconcile")
    records = details_attach(connection, spec, records)
    for raw in records:
        try:
            page.mapped.append(record_map(spec=spec, model=model, raw=raw))
        except MappingError as exc:
            remote_id = dig(raw, spec.id) if isinstance(raw, dict) else None
            page.failures.append(
                {"id": str(remote_id)[:100], "field": exc.field, "message": exc.message}
            )
    return page


def _fetch(
    connection: Connection, spec: SyncSpec, since: str | None, position: Position
) -> tuple[Any, str]:
    """The system's answer for the page at ``position`` (JSON), and its ``Link`` header."""
    values = template_values(spec.pagination, position, since, connection.config or {})
    query = {**render(spec.query, values), **spec.deletions.query}
    if spec.modified_param and since:
        query[spec.modified_param] = spec.modified_template.replace("{since}", since)
    query |= page_query(spec.pagination, position)
    return remote_answer(
        connection,
        path=spec.path,
        query=query,
        body=render(spec.body, values) if spec.method == "POST" else None,
        headers=spec.headers,
        error_field=spec.error_field,
    )


@transaction.atomic
def page_store(*, state_id: str, run_id: str, claim: str, page: Page) -> SyncState:
    """Write the page's changes, counts and the checkpoint after it, under the locks that
    keep a revoked connection from getting records back and two runs from interleaving."""
    owner = SyncState.objects.filter(pk=state_id).values_list("connection_id", flat=True)
    if (connection_id := owner.first()) is None:  # erased with its revoked connection
        raise SyncStopped()
    connection = Connection.objects.select_for_update(of=("self",)).get(pk=connection_id)
    state = SyncState.objects.select_for_update().filter(pk=state_id).first()
    if connection.status != ConnectionStatus.ACTIVE:
        raise SyncStopped()
    mine = (run_id, claim, SyncStatus.RUNNING)
    if state is None or (state.run_id, state.claimed_by, state.status) != mine:
        raise SyncLost()
    run = SyncRun.objects.select_for_update().get(pk=run_id)
    _write(state, run, _last_of_each(page.mapped))
    if page.reconcile and run.mode == SyncMode.FULL:
        listed = [m.remote_id for m in page.mapped]
        SyncedRecord.objects.filter(
            connection_id=state.connection_id, model=state.model, remote_id__in=listed
        ).update(seen_in=run.pk)
    run.pages += 1
    run.failed += len(page.failures)
    run.errors = (run.errors + page.failures)[:MAX_REPORTED]
    run.save()
    newest = max((m.modified_at for m in page.mapped if m.modified_at), default=None)
    state.checkpoint = {
        **state.checkpoint,
        "position": page.following,
        "done": page.following is None,
        "newest": max(filter(None, [state.checkpoint.get("newest"), _iso(newest)]), default=None),
    }
    state.claimed_until = timezone.now() + timedelta(seconds=settings.ONRAMP_SYNC_LEASE)
    state.save(update_fields=["checkpoint", "change_counter", "claimed_until"])
    return state


def _last_of_each(mapped: list[Mapped]) -> list[Mapped]:
    return list({m.remote_id: m for m in mapped}.values())


def _write(state: SyncState, run: SyncRun, mapped: list[Mapped]) -> None:
    """Insert the new records and update the changed ones, each taking the next change
    number; a record whose content hash is unchanged is not written at all."""
    key = {"connection_id": state.connection_id, "model": state.model}
    ids = [m.remote_id for m in mapped]
    known = {r.remote_id: r for r in SyncedRecord.objects.filter(**key, remote_id__in=ids)}
    now, new, changed = timezone.now(), [], []
    for item in mapped:
        record = known.get(item.remote_id)
        if record is not None and record.content_hash == item.content_hash:
            run.unchanged += 1
            continue
        if record is None and item.deleted:
            continue  # a tombstone of a record Onramp never had: nothing to tell
        _count(run, record, item)
        state.change_counter += 1
        values = _values(item, state.change_counter, now)
        if record is None:
            new.append(SyncedRecord(**key, remote_id=item.remote_id, **values))
        else:
            changed.append(_updated(record, values))
    SyncedRecord.objects.bulk_create(new)
    SyncedRecord.objects.bulk_update(changed, [*VALUES])


VALUES = (
    "content_hash",
    "data",
    "raw",
    "deleted",
    "remote_modified_at",
    "change_seq",
    "changed_at",
)


def _values(item: Mapped, seq: int, now: datetime) -> dict[str, Any]:
    return {
        "content_hash": item.content_hash,
        "data": item.data,
        "raw": item.raw,
        "deleted": item.deleted,
        "remote_modified_at": item.modified_at,
        "change_seq": seq,
        "changed_at": now,
    }


def _updated(record: SyncedRecord, values: dict[str, Any]) -> SyncedRecord:
    for name, value in values.items():
        setattr(record, name, value)
    return record


def _count(run: SyncRun, record: SyncedRecord | None, item: Mapped) -> None:
    if record is None:
        run.added += 1
    elif item.deleted and not record.deleted:
        run.deleted += 1
    else:
        run.updated += 1


def unlisted_delete(state: SyncState, run: SyncRun, spec: SyncSpec) -> None:
    """At the end of a full run of a ``reconcile`` system: the records it did not list are
    gone (each a change, as a tombstone would be), of those it would have listed: modified
    inside its window where the listing is filtered by modified time; all, where it is not
    (Mintsoft's suppliers, MaintainX, SX.e). Called with the state locked; the caller saves
    it."""
    unlisted = SyncedRecord.objects.filter(
        connection_id=state.connection_id, model=state.model, deleted=False
    ).exclude(seen_in=run.pk)
    if _filtered(spec):
        unlisted = unlisted.filter(remote_modified_at__gte=run.since)
    now = timezone.now()
    for record in unlisted.iterator(chunk_size=500):
        state.change_counter += 1
        record.deleted, record.change_seq, record.changed_at = True, state.change_counter, now
        record.content_hash = content_hash(record.data, record.raw, True)
        record.save(update_fields=["deleted", "change_seq", "changed_at", "content_hash"])
        run.deleted += 1


def _filtered(spec: SyncSpec) -> bool:
    """Whether a run lists only what changed inside its window."""
    return bool(spec.modified_param) or "{since}" in json.dumps(spec.body)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
