"""The end user's flow: choose system → method → prepare → details → validate → done.

Views parse, call a service, render one screen (``views/base.py`` has the plumbing); what a
visit reaches is ``note``d and written once, after the view.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.categories import CATEGORIES
from catalog.models import System
from catalog.search import Entry, listed_entry
from connections.errors import OnrampError
from connections.flow.views.base import (
    HtmxHttpRequest,
    closed_screen,
    flow_path_ok,
    flow_screen,
    flow_url,
    flow_view,
    method_context,
    method_start_url,
    note,
    only_system,
    remember_screen,
    screen,
    see_other,
    system_for,
)
from connections.flow.views.handoff import handoff_context
from connections.http.compression import keep_uncompressed
from connections.languages import supported
from connections.models import (
    AttemptStatus,
    LinkSession,
    LinkSessionStatus,
)
from connections.selectors import (
    link_session_status,
    session_categories,
    session_hidden_matches,
    session_methods,
    session_systems,
    session_unavailable_reason,
)
from connections.services.link_sessions import (
    link_session_complete,
    link_session_mark,
    link_session_set_locale,
)
from connections.services.system_requests import system_request_record
from connections.syncs.words import models_in_words

POPULAR_COUNT = 8


@require_GET
@flow_screen
def start(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The link's address: the first screen, or where the end user left off."""
    note(request, session, "opened")
    if reason := session_unavailable_reason(session):  # nothing it allows is offered yet
        return screen(request, session, "closed", {"reason": reason}, status=409)
    if resume := _resume_path(request, session):
        return HttpResponseRedirect(resume)
    if only := only_system(session):
        return HttpResponseRedirect(flow_url(request, "system", only))
    reads = models_in_words(session.partner.sync_models or [])
    context = _choose_context(session, "", "") | {"opened": True, "reads": reads}
    return screen(request, session, "choose", context)


@require_GET
@flow_screen
def search(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    query = request.GET.get("q", "")[:100].replace("\x00", "")
    category = request.GET.get("category", "")
    whole_screen = not request.htmx or request.htmx.target == "flow"
    context = _choose_context(
        session, query, category if category in CATEGORIES else "", with_categories=whole_screen
    )
    if whole_screen:
        remember_screen(request, session)  # back at the list: resume here, not further on
    return screen(
        request, session, "choose", context, partial="screen" if whole_screen else "results"
    )


@require_POST
@flow_screen
def request_system(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """Record the system an end user could not find, and tell the partner."""
    name, query = request.POST.get("name", "")[:200], request.POST.get("q", "")[:100]
    context: dict[str, Any] = {"requested_name": name, "query": query}
    status = 200
    try:
        context["requested"] = system_request_record(session=session, name=name, query=query)
    except OnrampError as exc:
        context["request_error"], status = exc.message, exc.status
    if not request.htmx:  # without JavaScript: the whole screen, with the answer in place
        context |= _choose_context(session, query, "")
    return screen(request, session, "choose", context, status=status, partial="request")


def _resume_path(request: HtmxHttpRequest, session: LinkSession) -> str:
    """A check still running, else the last screen shown (the same link session, resumed)."""
    running = session.attempts.filter(
        status__in=(AttemptStatus.QUEUED, AttemptStatus.RUNNING)
    ).first()
    if running is not None:
        return flow_url(request, "attempt", running.id)
    if not session.last_screen:
        return ""
    path = flow_url(request, "start") + session.last_screen
    return path if flow_path_ok(request, session, path) else ""  # gone since: start over


def _choose_context(
    session: LinkSession, query: str, category: str, *, with_categories: bool = True
) -> dict[str, Any]:
    """The list; the category menu only for a whole screen (a keystroke's results need
    none)."""
    browsing = not query and not category
    limit = POPULAR_COUNT if browsing else 50
    systems = session_systems(session, query, category, limit=limit)
    return {
        "systems": systems,
        "not_offered": [] if systems else [e.name for e in session_hidden_matches(session, query)],
        "categories": session_categories(session) if with_categories else [],
        "popular": browsing,
        "query": query,
        "category": category,
        "category_label": CATEGORIES.get(category, ""),
    }


@require_GET
@flow_screen
def system(request: HtmxHttpRequest, session: LinkSession, slug: str) -> HttpResponse:
    row, definition = system_for(session, slug)
    note(request, session, "system", slug)
    context = {
        "system": row,
        "definition": definition,
        "back_url": "" if only_system(session) else flow_url(request, "search"),
    }
    if definition.coming_soon:
        return screen(request, session, "soon", context)
    methods = session_methods(session, definition)
    if len(methods) == 1:
        return HttpResponseRedirect(method_start_url(request, slug, methods[0]))
    remember_screen(request, session)
    return screen(request, session, "method", context | {"methods": methods})


@require_GET
@flow_screen
def prepare(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    context = method_context(request, session, slug, method_id, back="system")
    note(request, session, "method", method_id)
    if not context["method"].has_guide:  # nothing to prepare: on to the details
        return HttpResponseRedirect(flow_url(request, "details", slug, method_id))
    note(request, session, "guide")
    remember_screen(request, session)
    share = handoff_context(request, context["system"].name, slug, context["method"])
    return screen(request, session, "prepare", context | share)


@require_GET
@flow_view
def done(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    if not session.validated_at:
        return closed_screen(request, session) or HttpResponseRedirect(flow_url(request, "start"))
    return done_screen(request, session)


def done_screen(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The connected screen, with the public token for the partner's page (a validated
    session's; never compressed)."""
    try:
        public_token = link_session_complete(session=session)
    except OnrampError as exc:
        return screen(request, session, "closed", {"reason": exc.code}, status=exc.status)
    context = {
        "public_token": public_token,
        "system": _connected_system(session),
        "return_url": _return_url(session, "success"),
    }
    return keep_uncompressed(screen(request, session, "done", context))


def _connected_system(session: LinkSession) -> Entry | System:
    """The system connected, from memory (its row only if it has been disabled since)."""
    return listed_entry(session.connection.system_id) or session.connection.system


def _return_url(session: LinkSession, status: str) -> str:
    """The partner's ``redirect_url`` for a hosted link, saying how the flow ended."""
    if not session.redirect_url:
        return ""
    separator = "&" if "?" in session.redirect_url else "?"
    return f"{session.redirect_url}{separator}link_session_id={session.id}&status={status}"


@require_POST
@flow_view
def exit_flow(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The end user leaves. Embedded: the page's script tells the partner (204). Hosted: back
    to the partner's ``redirect_url`` with ``status=exit`` (or ``locked``/``expired``), else a
    page saying the link can be opened again."""
    link_session_mark(session=session, milestone="exited", value=request.POST.get("screen", ""))
    if request.POST.get("hosted") != "1":
        return HttpResponse(status=204)
    status = link_session_status(session)
    if session.validated_at:
        ending = "success"  # closed on the "connected" screen: it did connect
    elif status in (LinkSessionStatus.LOCKED, LinkSessionStatus.EXPIRED):
        ending = status
    else:
        ending = "exit"
    if back := _return_url(session, ending):
        return HttpResponseClientRedirect(back) if request.htmx else see_other(back)
    reason = ending if ending in (LinkSessionStatus.LOCKED, LinkSessionStatus.EXPIRED) else "left"
    return screen(request, session, "closed", {"reason": reason, "left": True})


@require_POST
@flow_view
def language(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The language switcher: the session speaks the chosen language from now on."""
    if chosen := supported(request.POST.get("locale", "")):
        link_session_set_locale(session=session, locale=chosen)
    here = request.POST.get("next", "")[:500]
    back = here if flow_path_ok(request, session, here) else flow_url(request, "start")
    return see_other(back)
