"""What every flow view shares: opening the session from the URL, framing, rendering.

State lives in the link token in the URL, never in cookies, so the flow works in a
cross-site iframe with third-party cookies blocked. Every screen is one template; htmx
requests get one of its partials, full loads get the page.

A screen costs one query to open its session and, only when the visit is new to the funnel
(a milestone reached, another screen to resume at, the language fixed on the first visit),
one UPDATE after the view: views ``note`` what they reach and ``flow_view`` writes it once.
What a screen shows of a system comes from memory (the search index, the definitions).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django_htmx.middleware import HtmxDetails

from catalog.registry import get_definition
from catalog.schema import MethodSpec, SystemDefinition
from catalog.search import Entry, listed_entry
from connections.branding import session_branding
from connections.http.middleware import allow_framing
from connections.languages import browser_language, language_of
from connections.models import LinkSession, LinkSessionStatus
from connections.selectors import session_methods, session_offers
from connections.services.link_sessions import (
    link_session_for_token,
    link_session_record,
    milestone_changes,
)


class HtmxHttpRequest(HttpRequest):
    """A request to the flow, typed as django-htmx's docs suggest: ``htmx`` (what htmx sent),
    the link token the URL carried and what this visit changes on its session (both set by
    ``flow_view``)."""

    htmx: HtmxDetails
    link_token: str
    session_changes: set[str]  # fields of the session this visit changed


FlowView = Callable[..., HttpResponse]


def flow_view(view: FlowView) -> FlowView:
    """Open the session named by the URL's token; apply its locale and framing rules.

    No CSRF cookie: the flow must work without cookies. The unguessable link token in the
    URL is what authorises a request, and cross-origin POSTs are refused by ``Origin``.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HtmxHttpRequest, link_token: str, **kwargs: Any) -> HttpResponse:
        session = link_session_for_token(link_token)
        if session is None:
            return _no_framing(render(request, "connect/invalid.html", status=404))
        if request.method == "POST" and not _same_origin(request):
            return _no_framing(HttpResponse("Cross-origin request refused.", status=403))
        request.link_token, request.session_changes = link_token, set()
        browser_decides = not session.locale
        if browser_decides:
            _change(request, session, {"locale": browser_language(request)})
        with translation.override(language_of(session.locale)):
            response = view(request, session, **kwargs)
        link_session_record(session=session, fields=request.session_changes)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        if browser_decides:  # this answer's language came from the browser's Accept-Language
            patch_vary_headers(response, ["Accept-Language"])
        return allow_framing(response, session.allowed_origin)

    return wrapper


def flow_screen(view: FlowView) -> FlowView:
    """A step before validation: closed sessions get their closed screen instead."""

    @flow_view
    @wraps(view)
    def wrapper(request: HtmxHttpRequest, session: LinkSession, **kwargs: Any) -> HttpResponse:
        return closed_screen(request, session) or view(request, session, **kwargs)

    return wrapper


def _same_origin(request: HtmxHttpRequest) -> bool:
    """A POST from our own pages. Under ``Referrer-Policy: no-referrer`` a browser sends
    ``Origin: null`` for a form's navigation; its ``Sec-Fetch-Site`` (which page scripts cannot
    set) then says whether the form was ours."""
    origin = request.headers.get("Origin")
    if origin == "null":
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    return origin is None or origin == f"{request.scheme}://{request.get_host()}"


def _no_framing(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    return response


def screen(
    request: HtmxHttpRequest,
    session: LinkSession,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    partial: str = "screen",
) -> HttpResponse:
    """Render a screen: the named partial for htmx, the whole page otherwise."""
    template = f"connect/{name}.html"
    if request.htmx:
        template += f"#{partial}"
    base = {
        "session": session,
        "partner": session.partner,
        "brand": session_branding(session),
        "link_token": request.link_token,
        "screen_name": name,
    }
    return render(request, template, base | context, status=status)


def fragment(
    request: HtmxHttpRequest,
    session: LinkSession,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    """A piece of a screen on its own template (a flow step's section, for htmx)."""
    base = {
        "session": session,
        "partner": session.partner,
        "brand": session_branding(session),
        "link_token": request.link_token,
    }
    return render(request, template, base | context, status=status)


def flow_url(request: HtmxHttpRequest, name: str, *args: str) -> str:
    return reverse(f"connect:{name}", args=[request.link_token, *args])


def flow_path_ok(request: HtmxHttpRequest, session: LinkSession, path: str) -> bool:
    """``path`` is a screen of this very link that can still be shown (its system listed and
    allowed, its method offered): safe to send the end user to."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if match.namespace != "connect" or match.kwargs.get("link_token") != request.link_token:
        return False
    if slug := match.kwargs.get("slug"):
        try:
            _, definition = system_for(session, slug)
        except Http404:
            return False
        method_id = match.kwargs.get("method_id")
        offered = session_methods(session, definition)
        return method_id is None or any(method.id == method_id for method in offered)
    return True


def note(request: HtmxHttpRequest, session: LinkSession, milestone: str, value: str = "") -> None:
    """Record funnel progress with this visit's one write (only what is new to the session)."""
    _change(request, session, milestone_changes(session, milestone, value))


def _change(request: HtmxHttpRequest, session: LinkSession, changes: dict[str, object]) -> None:
    request.session_changes.update(changes)
    for name, value in changes.items():
        setattr(session, name, value)


def remember_screen(request: HtmxHttpRequest, session: LinkSession) -> None:
    """Note this screen, to resume at it when the link is opened again (the path after the
    link token: the token itself is never stored)."""
    start = flow_url(request, "start")
    if request.path.startswith(start):
        note(request, session, "screen", request.path[len(start) :])


def see_other(url: str) -> HttpResponse:
    """303: the browser follows a POST with a GET of ``url``."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def closed_screen(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse | None:
    """Where a session that can no longer take input goes (None when it still can)."""
    if session.validated_at and session.connection_id:
        return HttpResponseRedirect(flow_url(request, "done"))
    if session.locked_at:
        return screen(request, session, "closed", {"reason": LinkSessionStatus.LOCKED}, status=403)
    if session.is_expired:
        return screen(
            request, session, "closed", {"reason": LinkSessionStatus.EXPIRED}, status=410
        )
    return None


def system_for(session: LinkSession, slug: str) -> tuple[Entry, SystemDefinition]:
    """A system this session may connect (as the search index holds it), with its
    definition; 404 otherwise, as for one not offered (no method usable yet)."""
    allowed = session.systems or None
    if session.connection_id:
        allowed = [session.connection.system_id]
    system = listed_entry(slug)
    definition = get_definition(slug)
    if system is None or definition is None or (allowed and slug not in allowed):
        raise Http404("No such system for this link.")
    if not session_offers(session, definition):
        raise Http404("This system is not offered yet.")
    return system, definition


def method_start_url(request: HtmxHttpRequest, slug: str, method: MethodSpec) -> str:
    """A method's first screen: its guide, or its details when it has nothing to prepare."""
    return flow_url(request, "prepare" if method.has_guide else "details", slug, method.id)


def only_system(session: LinkSession) -> str:
    """The one system this session can connect, if it is restricted to one."""
    if session.connection_id:
        return session.connection.system_id
    return session.systems[0] if len(session.systems) == 1 else ""


def method_context(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str, back: str
) -> dict[str, Any]:
    """The system and method a screen is about, and where its Back link goes."""
    row, definition = system_for(session, slug)
    method = definition.method(method_id)
    if method is None or method not in session_methods(session, definition):
        raise Http404("No such method.")
    if back == "prepare" and method.has_guide:
        back_url = flow_url(request, "prepare", slug, method.id)
    elif len(session_methods(session, definition)) > 1:
        back_url = flow_url(request, "system", slug)
    else:
        back_url = "" if only_system(session) else flow_url(request, "search")
    return {"system": row, "definition": definition, "method": method, "back_url": back_url}
