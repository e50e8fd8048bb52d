"""Reads for views and the API (writes live in ``services/``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Model, Q, QuerySet
from django.http import Http404
from django.templatetags.static import static
from django.utils import timezone

from catalog.categories import CATEGORIES
from catalog.models import System
from catalog.registry import definitions, get_definition
from catalog.schema import MethodSpec, SystemDefinition
from catalog.search import Entry, listed_entry, search_entries, system_categories
from connections.branding import session_branding
from connections.models import (
    TEST_SYSTEMS,
    AttemptStatus,
    Connection,
    LinkSession,
    LinkSessionStatus,
    Mode,
    OAuthApp,
    Partner,
    PartnerKey,
    SignIn,
    ValidationAttempt,
    WebhookDelivery,
)
from connections.schemes import SCHEMES
from connections.schemes.base import uses_app
from connections.security import tokens

FAILURE_WINDOW = timedelta(days=30)
FAILED = (AttemptStatus.FAILED, AttemptStatus.ERROR)


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


def partner_keys_usable(partner: Partner, mode: str | None = None) -> QuerySet[PartnerKey]:
    """The partner's keys that still work (a rolled key until it expires), newest first;
    only one mode's when ``mode`` is given."""
    unexpired = Q(expires_at=None) | Q(expires_at__gt=timezone.now())
    keys = partner.keys.filter(unexpired, revoked_at=None)
    return (keys.filter(mode=mode) if mode else keys).order_by("-created_at")


def link_session_status(session: LinkSession) -> LinkSessionStatus:
    if session.public_token_used_at:
        return LinkSessionStatus.EXCHANGED
    if session.validated_at:
        return LinkSessionStatus.COMPLETED
    if session.locked_at:
        return LinkSessionStatus.LOCKED
    return LinkSessionStatus.EXPIRED if session.is_expired else LinkSessionStatus.OPEN


def link_session_now(session: LinkSession) -> LinkSession:
    """The session as stored now (a check that ended meanwhile changed it), with its partner
    and connection."""
    return LinkSession.objects.select_related("partner", "connection").get(pk=session.pk)


def last_attempt(session: LinkSession, system_slug: str = "") -> ValidationAttempt | None:
    """The session's latest check (of ``system_slug`` only, when given)."""
    attempts = (
        session.attempts.filter(system_slug=system_slug) if system_slug else session.attempts
    )
    return attempts.order_by("-created_at").first()


# --- what a session may pick -------------------------------------------------------------
# A method whose end users sign in (OAuth), or that sends the integrator's own app key beside
# the customer's credential (``app_headers``: Visma e-conomic, ServiceTitan), works only once
# the partner has registered its own app for the system (``OAuthApp``, the same registration
# for both): until then it is not offered, and a system with no other method is not offered
# at all. ``GET /systems`` and the admin say why (``OAUTH_APP_MISSING`` for both kinds: one
# registration fixes both).

OAUTH_APP_MISSING = "oauth_app_missing"


def signs_in(method: MethodSpec) -> bool:
    """End users sign in and consent (to the partner's own OAuth app)."""
    return SCHEMES[method.scheme].step == "oauth_sign_in"


def needs_app(method: MethodSpec) -> bool:
    """The method works only with the partner's own app for the system: its end users sign
    in to it, or each call carries its app key (``app_headers``)."""
    return signs_in(method) or uses_app(method)


def method_unavailable_reason(method: MethodSpec, system: str, apps: frozenset[str]) -> str:
    """Why ``method`` of ``system`` cannot be offered ("" when it can), given the systems
    with the partner's app."""
    return OAUTH_APP_MISSING if needs_app(method) and system not in apps else ""


def partner_oauth_apps(partner_id: str) -> frozenset[str]:
    """The systems for which the partner has registered its OAuth app."""
    systems = OAuthApp.objects.filter(partner_id=partner_id).values_list("system", flat=True)
    return frozenset(systems)


def system_sign_in_partners(system: str) -> list[str]:
    """The partners (by name) whose end users are offered the system's sign-in methods:
    those that registered their OAuth app for it."""
    rows = OAuthApp.objects.filter(system=system).order_by("partner__name")
    return list(rows.values_list("partner__name", flat=True))


def _session_apps(session: LinkSession) -> frozenset[str]:
    """``partner_oauth_apps`` for the session's partner, read once per visit."""
    apps = session.__dict__.get("_oauth_apps")
    if apps is None:
        apps = session.__dict__["_oauth_apps"] = partner_oauth_apps(session.partner_id)
    return apps


def session_methods(session: LinkSession, definition: SystemDefinition) -> tuple[MethodSpec, ...]:
    """The methods of ``definition`` an end user of this session may use, recommended first.
    No query for a system whose methods need no app of the partner's."""
    usable = list(definition.methods)
    if any(needs_app(method) for method in usable):
        apps = _session_apps(session)
        usable = [m for m in usable if not method_unavailable_reason(m, definition.slug, apps)]
    return tuple(sorted(usable, key=lambda method: not method.recommended))


def session_offers(session: LinkSession, definition: SystemDefinition) -> bool:
    """Whether the session's catalog offers this system (a coming-soon one says so itself)."""
    return definition.coming_soon or bool(session_methods(session, definition))


def _not_offered(session: LinkSession) -> frozenset[str]:
    """Systems of the catalog whose every method waits for an app of the partner's."""
    sign_in_only = [
        slug
        for slug, definition in definitions().items()
        if definition.methods and all(needs_app(m) for m in definition.methods)
    ]
    if not sign_in_only:
        return frozenset()
    return frozenset(sign_in_only) - _session_apps(session)


def session_systems(
    session: LinkSession, query: str, category: str = "", limit: int = 50
) -> list[Entry]:
    """The catalog an end user may pick from, matching ``query`` (the most popular systems
    when empty) and ``category`` when given, best first. From the search index; one query
    for the partner's OAuth apps."""
    hidden = _not_offered(session)
    allowed = session.systems or None
    found = search_entries(query, allowed=allowed, category=category, limit=limit + len(hidden))
    return [entry for entry in found if entry.slug not in hidden][:limit]


def session_hidden_matches(session: LinkSession, query: str, limit: int = 3) -> list[Entry]:
    """Systems matching ``query`` that exist but are not offered to this session (the partner
    has not registered its app for them): so an empty result can say so, not blame spelling."""
    hidden = _not_offered(session)
    if not query or not hidden:
        return []
    found = search_entries(query, allowed=session.systems or None, limit=limit + 20)
    return [entry for entry in found if entry.slug in hidden][:limit]


def session_categories(session: LinkSession) -> list[tuple[str, str]]:
    """The categories worth a button on the choose screen: (slug, label), in display order
    (not one whose only systems are not offered)."""
    allowed = session.systems or None
    present = set(system_categories(allowed=allowed))
    hidden = _not_offered(session)
    for category in {c for slug in hidden if (e := listed_entry(slug)) for c in e.categories}:
        found = search_entries("", allowed=allowed, category=category, limit=len(hidden) + 1)
        if all(entry.slug in hidden for entry in found):
            present.discard(category)
    return [(slug, str(label)) for slug, label in CATEGORIES.items() if slug in present]


def session_unavailable_reason(session: LinkSession) -> str:
    """Why this session can connect nothing at all ("" when it can): it is restricted (or
    reconnects) to systems that are not offered."""
    allowed = [session.connection.system_id] if session.connection_id else session.systems
    hidden = _not_offered(session) if allowed else frozenset()
    return OAUTH_APP_MISSING if allowed and set(allowed) <= hidden else ""


class Position(NamedTuple):
    """Where a page ended in a list newest first: its last row's (created_at, id)."""

    created_at: datetime
    id: str


NEWEST_FIRST = ("-created_at", "-id")  # every keyset list's order (an index's, too)


def after(rows: QuerySet, position: Position | None) -> QuerySet:
    """The rows that come after ``position`` in ``NEWEST_FIRST`` order (keyset pagination:
    the index is entered at the position, however deep, instead of counting rows off).
    ``created_at <= t`` is the index's range; the exclusion only settles ties at ``t``."""
    if position is None:
        return rows
    return rows.filter(created_at__lte=position.created_at).exclude(
        created_at=position.created_at, id__gte=position.id
    )


def page_of(rows: QuerySet, *, limit: int, offset: int = 0) -> tuple[list[Any], bool]:
    """``limit`` rows (from ``offset``) in ``NEWEST_FIRST`` order, and whether more follow."""
    page = list(rows.order_by(*NEWEST_FIRST)[offset : offset + limit + 1])
    return page[:limit], len(page) > limit


# What a connection in a list shows (the API's ConnectionOut): never its credentials.
LISTED_CONNECTION_FIELDS = (
    "id",
    "system_id",
    "method",
    "status",
    "end_user_id",
    "config",
    "created_at",
    "last_validated_at",
    "last_checked_at",
    "next_check_at",
    "last_error_code",
    "last_error_message",
)


def connection_list(
    partner: Partner,
    *,
    filters: dict[str, str | None],
    limit: int,
    position: Position | None = None,
    offset: int = 0,
    mode: str = Mode.LIVE,
) -> tuple[list[Connection], bool]:
    """A page of the partner's connections (of the key's mode), newest first, after
    ``position`` (or ``offset`` rows into the list: the bounded compatibility path), and
    whether more follow. Index: ``connection_partner_page``."""
    rows: QuerySet[Connection] = Connection.objects.filter(partner=partner, mode=mode)
    rows = rows.only(*LISTED_CONNECTION_FIELDS)
    for name, value in filters.items():
        if value is not None:
            rows = rows.filter(**{"system_id" if name == "system" else name: value})
    return page_of(after(rows, position), limit=limit, offset=offset)


def delivery_list(
    partner: Partner,
    *,
    mode: str,
    endpoint_id: str | None,
    status: str | None,
    limit: int,
    position: Position | None = None,
) -> tuple[list[WebhookDelivery], bool]:
    """A page of the deliveries to the partner's endpoints, newest first, after
    ``position``, and whether more follow. Index: ``delivery_newest``."""
    rows = (
        WebhookDelivery.objects.filter(endpoint__partner=partner, endpoint__mode=mode)
        .select_related("event")
        .defer("event__data", "event__payload")  # a delivery shows its event's kind only
    )
    if endpoint_id:
        rows = rows.filter(endpoint_id=endpoint_id)
    if status:
        rows = rows.filter(status=status)
    return page_of(after(rows, position), limit=limit)


def estimated_count(rows: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows ``rows`` holds (the planner's, from table
    statistics: no row is read), or None on another database."""
    if connection.vendor != "postgresql":
        return None
    plan = json.loads(rows.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def recent_failures(
    slugs: list[str] | None, since: datetime | None = None, sessions: QuerySet | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Per system (of ``slugs``, or all), its failed attempts (of the last 30 days, or
    ``since``; of ``sessions`` only, when given) by code, most frequent first."""
    since = since or timezone.now() - FAILURE_WINDOW
    attempts = ValidationAttempt.objects.filter(status__in=FAILED, created_at__gte=since)
    if slugs is not None:
        attempts = attempts.filter(system_slug__in=slugs)
    if sessions is not None:
        attempts = attempts.filter(link_session__in=sessions)
    rows = (
        attempts.values("system_slug", "error_code")
        .annotate(count=Count("pk"), last=Max("created_at"))
        .order_by("-count", "-last")
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["system_slug"], []).append(row)
    return found


COMING_SOON = "coming_soon"


def partner_catalog(partner: Partner, *, mode: str) -> list[dict[str, Any]]:
    """The systems a partner may offer (a test key: the Sandbox only), each method saying
    whether end users sign in and, then, whether the partner's OAuth app is registered, and
    whether end users are offered it (``available``, else ``unavailable_reason``)."""
    apps = partner_oauth_apps(partner.pk)
    rows = System.objects.listed().order_by("-popularity", "name")
    if mode == Mode.TEST:
        rows = rows.filter(slug__in=TEST_SYSTEMS)
    return [_offered(row, apps) for row in rows if get_definition(row.slug)]


def _offered(row: System, apps: frozenset[str]) -> dict[str, Any]:
    definition = get_definition(row.slug)
    methods = []
    for method in definition.methods:
        reason = method_unavailable_reason(method, row.slug, apps)
        methods.append(
            {
                "id": method.id,
                "label": method.label,
                "scheme": method.scheme,
                "recommended": method.recommended,
                "signs_in": signs_in(method),
                "oauth_app_registered": (row.slug in apps) if needs_app(method) else None,
                "available": not reason,
                "unavailable_reason": reason or None,
            }
        )
    logo = f"{settings.ONRAMP_PUBLIC_URL}{static(row.logo)}" if row.logo else ""
    reasons = {m["unavailable_reason"] for m in methods}
    if definition.coming_soon or not methods:
        reason = COMING_SOON
    else:
        reason = "" if None in reasons else sorted(reasons)[0]
    return {
        "slug": row.slug,
        "name": row.name,
        "vendor": row.vendor,
        "categories": row.categories,
        "logo_url": logo,
        "available": not reason,
        "unavailable_reason": reason or None,
        "methods": methods,
    }


def sign_in_app_name(state: str) -> str:
    """Whose app a sign-in asks consent for: the partner's name as its end user sees it, found
    by the sign-in's ``state`` ("" for a state Onramp did not issue)."""
    sign_in = (
        SignIn.objects.filter(state_digest=tokens.digest(state))
        .select_related("link_session__partner")
        .first()
    )
    return session_branding(sign_in.link_session).display_name if sign_in else ""


CUSTOMER_ROWS = 50  # of each kind, newest first


def customer_link_sessions(end_user_id: str) -> list[LinkSession]:
    """One end user's link sessions across partners, newest first (the admin's "find a
    customer": the partner's id for them, exactly)."""
    rows = LinkSession.objects.filter(end_user_id=end_user_id).select_related("partner")
    return list(rows.order_by("-created_at", "-id")[:CUSTOMER_ROWS])


def customer_connections(end_user_id: str) -> list[Connection]:
    """One end user's connections across partners, newest first."""
    rows = Connection.objects.filter(end_user_id=end_user_id).select_related("partner", "system")
    return list(rows.order_by("-created_at", "-id")[:CUSTOMER_ROWS])
