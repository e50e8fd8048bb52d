"""The funnel, a report page of the admin (``/admin/reports/funnel/``): of the link sessions
created in a period (for a partner, a system, or all), how many reached each step — opened →
system chosen → guide viewed → details submitted → validated → exchanged — as a
server-rendered SVG chart and tables, with the most frequent failure codes per system.

A report is a view on the admin site (staff only, plus the permission it reads with), not a
model: see ``REPORTS`` in ``admin/__init__.py``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from catalog.models import System
from connections.models import LinkSession, Mode, Partner, ValidationAttempt
from connections.selectors import recent_failures

PERIODS = {"7": 7, "30": 30, "90": 90}
SUBMITTED = ValidationAttempt.objects.filter(link_session=OuterRef("pk"))
STAGES = [
    ("created", "Link created", Q()),
    ("opened", "Opened", Q(opened_at__isnull=False)),
    ("chosen", "System chosen", ~Q(system_chosen="")),
    ("guide", "Guide viewed", Q(guide_viewed_at__isnull=False)),
    ("submitted", "Details submitted", Q(Exists(SUBMITTED))),
    ("validated", "Validated", Q(validated_at__isnull=False)),
    ("exchanged", "Exchanged", Q(public_token_used_at__isnull=False)),
]
CHART = {"width": 800, "label": 150, "row": 30, "bar": 20}


def funnel_counts(sessions: QuerySet[LinkSession], group: str | None = None) -> list[dict]:
    """Each stage's count (per ``group`` value when given), in one query."""
    counts = {key: Count("pk", filter=condition) for key, _, condition in STAGES}
    if group is None:
        return [sessions.aggregate(**counts)]
    return list(sessions.values(group).annotate(**counts).order_by("-created"))


def steps(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Each stage's count and how many of the step before reached it (its drop-off):
    ``kept`` is a percentage of the previous stage, None for the first or after none."""
    found, before = [], None
    for key, label, _ in STAGES:
        count = counts[key]
        kept = round(100 * count / before) if before else None
        found.append({"key": key, "label": label, "count": count, "kept": kept})
        before = count
    return found


def chart(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Bars for the SVG: each stage's width against the links created, its share of them
    and what it kept of the step before."""
    total = counts["created"] or 1
    room = CHART["width"] - CHART["label"] - 240  # the counts written after the bar
    return [
        step
        | {
            "share": round(100 * step["count"] / total),
            "y": n * CHART["row"],
            "width": max(1, round(room * step["count"] / total)) if step["count"] else 0,
        }
        for n, step in enumerate(steps(counts))
    ]


PERMISSION = "connections.view_linksession"


def funnel_view(request: HttpRequest) -> HttpResponse:
    """The funnel for the filters in the query string (staff with the link sessions' view
    permission)."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    days = PERIODS.get(request.GET.get("days", ""), 30)
    partner = request.GET.get("partner", "")[:32]
    mode = request.GET.get("mode", Mode.LIVE)
    mode = mode if mode in Mode.values else Mode.LIVE
    system = request.GET.get("system", "")[:63]
    since = timezone.now() - timedelta(days=days)
    sessions = LinkSession.objects.filter(created_at__gte=since, mode=mode)
    if partner:
        sessions = sessions.filter(partner_id=partner)
    if system:
        sessions = sessions.filter(system_chosen=system)
    context = {
        **admin.site.each_context(request),
        "title": "Funnel",
        "days": days,
        "periods": PERIODS,
        "partner": partner,
        "mode": mode,
        "modes": Mode.choices,
        "system": system,
        "partners": Partner.objects.order_by("name").values_list("id", "name"),
        "systems": System.objects.order_by("name").values_list("slug", "name"),
        **_figures(sessions, since),
    }
    return TemplateResponse(request, "admin/connections/funnel.html", context)


def _figures(sessions: QuerySet[LinkSession], since: datetime) -> dict[str, Any]:
    [overall] = funnel_counts(sessions)
    by_system = funnel_counts(sessions.exclude(system_chosen=""), "system_chosen")
    slugs = [row["system_chosen"] for row in by_system]
    failures = recent_failures(slugs, since=since, sessions=sessions)
    names = dict(System.objects.filter(slug__in=slugs).values_list("slug", "name"))
    for row in by_system:
        row["failures"] = failures.get(row["system_chosen"], [])[:3]
        row["name"] = names.get(row["system_chosen"], row["system_chosen"])
        row["steps"] = steps(row)
    return {
        "bars": chart(overall),
        "chart": CHART | {"height": len(STAGES) * CHART["row"]},
        "stages": [(key, label) for key, label, _ in STAGES],
        "by_system": by_system,
        "by_partner": _by_partner(sessions),
    }


def _by_partner(sessions: QuerySet[LinkSession]) -> list[dict]:
    names = dict(Partner.objects.values_list("id", "name"))
    rows = funnel_counts(sessions, "partner_id")
    for row in rows:
        row["name"] = names.get(row["partner_id"], row["partner_id"])
        row["steps"] = steps(row)
    return rows
