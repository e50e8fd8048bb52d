"""Per-system figures for the admin's systems page (``SystemFigures``), recounted by Celery
beat every ``ONRAMP_SYSTEM_FIGURES_INTERVAL`` seconds instead of on every view.

Why a recount on a schedule rather than counters bumped on each change: the figures come
from three tables written by many services (connections made, systems chosen and chosen
again, sessions validated, attempts failing) and one of them is a sliding 30-day window, so
counters would need a hook in each of those services, time buckets for the window, and would
drift with every path that forgot one; and a popular system's counter row would be a lock
every connection of it waits on. A recount is three grouped queries (0.1 s at 100,000
connections, link sessions and attempts: bench/scale_lists.py), corrects itself, and is minutes
old at worst, which an operator's overview can be (the page says when it was counted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from catalog.models import System
from connections.models import Connection, LinkSession, SystemFigures
from connections.selectors import FAILURE_WINDOW, recent_failures

COUNTED = ["connections", "sessions_chose", "sessions_connected", "failures", "counted_at"]


def system_figures_count(*, now: datetime | None = None) -> int:
    """Recount every system's figures and store them (one transaction: the page never shows
    half a recount). Returns how many systems have figures."""
    now = now or timezone.now()
    figures = _counted(now)
    known = set(System.objects.filter(slug__in=figures).values_list("slug", flat=True))
    rows = [
        SystemFigures(system_id=slug, counted_at=now, **values)
        for slug, values in figures.items()
        if slug in known
    ]
    with transaction.atomic():
        SystemFigures.objects.exclude(system_id__in=known).delete()
        SystemFigures.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["system"], update_fields=COUNTED
        )
    return len(rows)


def _counted(now: datetime) -> dict[str, dict[str, Any]]:
    """Per system slug: its figures (grouped counts over each table, never one per system)."""
    figures: dict[str, dict[str, Any]] = {}

    def of(slug: str) -> dict[str, Any]:
        return figures.setdefault(
            slug, {"connections": 0, "sessions_chose": 0, "sessions_connected": 0, "failures": []}
        )

    for row in Connection.objects.values("system_id").annotate(n=Count("pk")).order_by():
        of(row["system_id"])["connections"] = row["n"]
    for row in _sessions_by_system():
        of(row["system_chosen"]).update(
            sessions_chose=row["chose"], sessions_connected=row["connected"]
        )
    for slug, failures in recent_failures(None, since=now - FAILURE_WINDOW).items():
        of(slug)["failures"] = [_stored(failure) for failure in failures]
    return figures


def _sessions_by_system() -> Any:
    return (
        LinkSession.objects.exclude(system_chosen="")
        .values("system_chosen")
        .annotate(chose=Count("pk"), connected=Count("pk", filter=Q(validated_at__isnull=False)))
        .order_by()
    )


def _stored(failure: dict[str, Any]) -> dict[str, Any]:
    return {
        "error_code": failure["error_code"],
        "count": failure["count"],
        "last": str(failure["last"]),
    }
