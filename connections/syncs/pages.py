"""Pagination styles: which query asks for a page, and where the next page starts.

A position is what a run's checkpoint keeps between pages: the remote's cursor (``cursor``),
the number of records read (``offset``), or the page number (``page``). ``None`` after a page
means it was the last.
"""

from __future__ import annotations

from typing import Any

from catalog.mappings import PaginationSpec
from connections.syncs.mapping import dig

Position = str | int | None


def page_query(spec: PaginationSpec, position: Position) -> dict[str, str]:
    """The query parameters asking for the page at ``position`` (None: the first)."""
    query = {spec.size_param: str(spec.size)}
    if spec.style == "cursor" and position:
        query[spec.cursor_param] = str(position)
    elif spec.style == "offset":
        query[spec.offset_param] = str(position or 0)
    elif spec.style == "page":
        query[spec.page_param] = str(position or spec.first_page)
    return query


def next_position(spec: PaginationSpec, position: Position, answer: Any, count: int) -> Position:
    """Where the page after this one starts, or None when this one was the last. Offset and
    page styles take a short page for the last (a system gives no other sign)."""
    if spec.style == "cursor":
        following = dig(answer, spec.next_cursor)
        return str(following) if following not in (None, "") else None
    if count < spec.size:
        return None
    if spec.style == "offset":
        return int(position or 0) + count
    return int(position or spec.first_page) + 1
