"""Pagination styles: which request asks for a page, and where the next page starts.

A position is what a run's checkpoint keeps between pages: the remote's cursor (``cursor``),
the number of records read (``offset``, ``suiteql_offset``), the page number (``page``), the
next page's query from the answer's ``Link`` header (``link``), or the last record's key
(``keyset``). ``None`` after a page means it was the last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from catalog.mappings import PaginationSpec
from connections.syncs.mapping import dig

Position = str | int | None
OFFSETS = ("offset", "suiteql_offset")
_TYPED = re.compile(r"^\{([\w.]+):int\}$")  # "{record.posuf:int}" too
# One link-value of an RFC 8288 Link header: <target>; params (rel may list several types).
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^,;]+)*)")
_REL = re.compile(r';\s*rel\s*=\s*"?([^";]+)"?', re.IGNORECASE)


class PagingError(Exception):
    """The answer's paging cannot be followed (a next link elsewhere than the listing)."""


def page_query(spec: PaginationSpec, position: Position) -> dict[str, str]:
    """The query parameters asking for the page at ``position`` (None: the first). For the
    ``link`` style after the first page: the next link's own query, whole."""
    if spec.style == "link" and position:
        return dict(parse_qsl(str(position), keep_blank_values=True))
    query = {spec.size_param: str(spec.size)} if spec.size_param else {}
    if spec.style == "cursor" and position:
        query[spec.cursor_param] = str(position)
    elif spec.style in OFFSETS:
        query[spec.offset_param] = str(position or 0)
    elif spec.style == "page":
        query[spec.page_param] = str(position or spec.first_page)
    return query


def template_values(
    spec: PaginationSpec, position: Position, since: str | None, config: Mapping[str, Any]
) -> dict[str, str]:
    """What a request's templates may hold: the connection's settings (``{company_number}``),
    ``{since}``, ``{size}``, ``{after}`` (keyset: the last key read, empty at first)."""
    after = "" if position is None or spec.style != "keyset" else str(position)
    settings = {key: str(value) for key, value in config.items() if isinstance(value, str)}
    return {**settings, "since": since or "", "size": str(spec.size), "after": after}


def render(value: Any, values: Mapping[str, str]) -> Any:
    """A request body with the values in its strings (``"{size:int}"`` as a number)."""
    if isinstance(value, dict):
        return {key: render(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, values) for item in value]
    if isinstance(value, str) and (typed := _TYPED.match(value)):
        return _number(values.get(typed.group(1), ""))
    if isinstance(value, str):
        return re.sub(r"\{([\w.]+)\}", lambda m: values.get(m.group(1), m.group(0)), value)
    return value


def _number(text: str) -> int:
    """A whole number from its text ("1001", or "1001.0" as SX.e's decimals may come); 0 when
    there is none (the first page of a keyset)."""
    try:
        number = float(text)
    except ValueError:
        return 0
    return int(number) if number.is_integer() else 0


def next_position(
    spec: PaginationSpec,
    position: Position,
    answer: Any,
    records: list[Any],
    *,
    link: str = "",
    path: str = "",
) -> Position:
    """Where the page after this one starts, or None when this one was the last. Offset and
    page styles take a short page for the last (a system gives no other sign)."""
    if spec.style == "cursor":
        following = dig(answer, spec.next_cursor)
        return str(following) if following not in (None, "") else None
    if spec.style == "link":
        return _next_link(link, path)
    if spec.more_field and not _truthy(dig(answer, spec.more_field)):
        return None
    if not spec.more_field and len(records) < spec.size:
        return None
    if not records:
        return None  # "more" with an empty page would ask for the same page for ever
    if spec.style in OFFSETS:
        return int(position or 0) + len(records)
    if spec.style == "keyset":
        following = _key_of(records[-1], spec.key)
        if str(following) == str(position):  # a whole page of one key: no way past it
            raise PagingError(f"A whole page shares the {spec.key!r} {following!r}.")
        return following
    return int(position or spec.first_page) + 1


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


def _key_of(record: Any, key: str) -> Position:
    value = dig(record, key)
    if value in (None, "") or isinstance(value, (dict, list, bool)):
        raise PagingError(f"The last record has no {key!r} to page after.")
    return value if isinstance(value, int) else str(value)


def _next_link(header: str, path: str) -> str | None:
    """The query of the ``rel="next"`` link, which must list the same path (a link to
    anywhere else is not followed: the request stays on the connection's own listing)."""
    for target, params in _LINK.findall(header or ""):
        rels = {r.lower() for m in _REL.findall(params) for r in m.split()}
        if "next" not in rels:
            continue
        parts = urlsplit(target.strip())
        if not parts.path.endswith("/" + path.strip("/")):
            raise PagingError("The next page's link leaves the listing.")
        return parts.query or None
    return None
