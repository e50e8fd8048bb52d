"""Cursors for the partner API's lists: opaque, signed positions (keyset pagination).

A list answers ``next_cursor`` while more rows follow; passing it back as ``cursor`` gives
the next page, at the same cost however deep (the index is entered at the position, rows
are never counted off). A cursor is signed with the installation's secret key for one list
and one partner, so it cannot be forged, edited or used on another list or by another
partner: anything else is 400 ``invalid_cursor``, never a 500.
"""

from __future__ import annotations

from datetime import datetime

from django.core import signing

from connections.errors import OnrampError
from connections.models import Partner
from connections.selectors import Position

MAX_LENGTH = 200


def cursor_after(page: list, has_more: bool, *, scope: str, partner: Partner) -> str | None:
    """The cursor of the page after ``page`` (None at the end of the list)."""
    if not (has_more and page):
        return None
    last = page[-1]
    value = [last.created_at.isoformat(), last.id]
    return signing.dumps(value, salt=_salt(scope, partner))


def position_of(cursor: str | None, *, scope: str, partner: Partner) -> Position | None:
    """The position a cursor stands for; 400 ``invalid_cursor`` for anything else."""
    if cursor is None:
        return None
    try:
        created_at, row_id = signing.loads(cursor, salt=_salt(scope, partner))
        return Position(datetime.fromisoformat(created_at), str(row_id)[:32])
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise OnrampError(
            "invalid_cursor",
            "This cursor is not one of this list's: pass back the next_cursor of the page "
            "before, unchanged (or leave it out for the first page).",
            400,
        ) from exc


def _salt(scope: str, partner: Partner) -> str:
    return f"onramp.api.cursor.{scope}.{partner.pk}"
