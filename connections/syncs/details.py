"""What a listing leaves out, asked for with a request of its own
(``[syncs.<model>.lines.request]``): a purchase order's lines from NetSuite's
``transactionline`` (one query for a page's orders) or SX.e's single purchase order (one call
per order). The rows are put in each record at ``lines.source`` before it is mapped, so the
record's ``raw`` and content hash hold them: a changed line is a changed record.

Part of the page: a 429 or a failure here is one for the page, which is read again whole.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from catalog.mappings import DetailRequest, SyncSpec
from connections.models import Connection
from connections.syncs.mapping import dig
from connections.syncs.pages import Position, next_position, page_query, render, template_values
from connections.syncs.remote import RemoteFailed, remote_answer

MAX_PAGES = 100  # of one detail request's answer; past it the page fails rather than loops
# An id templated into another request (a SuiteQL IN list, a JSON body): plain ids only.
PLAIN_ID = re.compile(r"^[\w.-]{1,100}$")


def details_attach(connection: Connection, spec: SyncSpec, records: list[Any]) -> list[Any]:
    """The page's records, each with its rows from the detail request at ``lines.source``
    (none when the definition declares no such request)."""
    request = spec.lines.request
    if not request.path:
        return records
    ids = {n: str(dig(r, spec.id)) for n, r in enumerate(records) if _plain(r, spec.id)}
    if not ids:
        return records
    config = connection.config or {}
    if request.per == "record":
        found = {
            n: _rows(connection, request, {**config, **_record_values(records[n], ids[n])})
            for n in ids
        }
    else:
        found = _by_parent(
            request, _rows(connection, request, {**config, "ids": ",".join(ids.values())})
        )
        found = {n: found.get(ids[n], []) for n in ids}
    return [{**r, spec.lines.source: found[n]} if n in found else r for n, r in enumerate(records)]


def _plain(record: Any, id_path: str) -> bool:
    value = dig(record, id_path) if isinstance(record, dict) else None
    return isinstance(value, (str, int)) and bool(PLAIN_ID.match(str(value)))


def _record_values(record: dict[str, Any], remote_id: str) -> dict[str, str]:
    scalars = {k: v for k, v in record.items() if isinstance(v, (str, int, float))}
    return {"id": remote_id, **{f"record.{k}": str(v) for k, v in scalars.items()}}


def _by_parent(request: DetailRequest, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[str(dig(row, request.parent))].append(row)
    return grouped


def _rows(
    connection: Connection, request: DetailRequest, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every row the detail request answers, page after page."""
    rows: list[dict[str, Any]] = []
    position: Position = None
    for _ in range(MAX_PAGES):
        answer = _ask(connection, request, values, position)
        found = dig(answer, request.records)
        found = [] if found is None else found  # a record without lines may have no table
        if not isinstance(found, list):
            raise RemoteFailed("unexpected_answer", f"No list of rows at {request.records!r}.")
        rows += [row for row in found if isinstance(row, dict)]
        if request.pagination.style == "single":
            return rows
        position = next_position(request.pagination, position, answer, found)
        if position is None:
            return rows
    raise RemoteFailed("unexpected_answer", f"The details run past {MAX_PAGES} pages.")


def _ask(
    connection: Connection, request: DetailRequest, values: dict[str, Any], position: Position
) -> Any:
    page = template_values(request.pagination, position, None, values)  # the str values
    query = render(request.query, page)
    if request.pagination.style != "single":
        query |= page_query(request.pagination, position)
    body = render(request.body, page) if request.method == "POST" else None
    answer, _ = remote_answer(
        connection,
        path=request.path,
        query=query,
        body=body,
        headers=request.headers,
        error_field=request.error_field,
    )
    return answer
