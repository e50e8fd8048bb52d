"""Reads for views and the API (writes live in ``services/``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404

from catalog.categories import CATEGORIES
from catalog.search import Entry, search_entries, system_categories
from connections.models import Connection, LinkSession, LinkSessionStatus, Mode, Partner


def partner_object(
    model: type[Model], partner: Partner, object_id: str, mode: str | None = None
) -> Any:
    """One of the partner's own rows, or 404 (another partner's rows do not exist for it,
    nor do a test key's for a live key, or the other way round)."""
    rows = model.objects.filter(pk=object_id[:32], partner=partner)
    if mode is not None and any(field.name == "mode" for field in model._meta.fields):
        rows = rows.filter(mode=mode)
    found = rows.first()
    if found is None:
        raise Http404(f"No {model._meta.verbose_name} with id {object_id[:32]!r}.")
    return found


def link_session_status(session: LinkSession) -> LinkSessionStatus:
    if session.public_token_used_at:
        return LinkSessionStatus.EXCHANGED
    if session.validated_at:
        return LinkSessionStatus.COMPLETED
    if session.locked_at:
        return LinkSessionStatus.LOCKED
    return LinkSessionStatus.EXPIRED if session.is_expired else LinkSessionStatus.OPEN


def session_systems(
    session: LinkSession, query: str, category: str = "", limit: int = 50
) -> list[Entry]:
    """The catalog an end user may pick from, matching ``query`` (the most popular systems
    when empty) and ``category`` when given, best first. From the search index: no query."""
    allowed = session.systems or None
    return search_entries(query, allowed=allowed, category=category, limit=limit)


def session_categories(session: LinkSession) -> list[tuple[str, str]]:
    """The categories worth a button on the choose screen: (slug, label), in display order."""
    present = system_categories(allowed=session.systems or None)
    return [(slug, str(label)) for slug, label in CATEGORIES.items() if slug in present]


def connection_list(
    partner: Partner,
    *,
    filters: dict[str, str | None],
    offset: int,
    limit: int,
    mode: str = Mode.LIVE,
) -> tuple[list[Connection], bool]:
    """A page of the partner's connections (of the key's mode), newest first, and whether
    more follow."""
    rows: QuerySet[Connection] = Connection.objects.filter(partner=partner, mode=mode)
    for name, value in filters.items():
        if value is not None:
            rows = rows.filter(**{"system_id" if name == "system" else name: value})
    page = list(rows.order_by("-created_at", "id")[offset : offset + limit + 1])
    return page[:limit], len(page) > limit
