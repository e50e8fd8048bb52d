"""The end user's flow: choose system → method → prepare → details → validate → done.

Every screen is one template; htmx requests get its ``screen`` partial, full loads get the
page. State lives in the link token in the URL, never in cookies, so the flow works in a
cross-site iframe with third-party cookies blocked. Views parse, call a service, render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.models import System
from catalog.registry import get_definition
from catalog.schema import MethodSpec, SystemDefinition
from connections.errors import OnrampError
from connections.failures import STEP_LABELS, STEPS
from connections.forms import DetailsForm
from connections.middleware import allow_framing
from connections.models import AttemptStatus, LinkSession, ValidationAttempt
from connections.services.link_sessions import (
    link_session_complete,
    link_session_for_token,
    link_session_mark,
)
from connections.services.validation import attempt_start, secrets_on_file

FlowView = Callable[..., HttpResponse]


def flow_view(view: FlowView) -> FlowView:
    """Open the session named by the URL's token; apply its locale and framing rules.

    No CSRF cookie: the flow must work without cookies. The unguessable link token in the
    URL is what authorises a request, and cross-origin POSTs are refused by ``Origin``.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request: Any, link_token: str, **kwargs: Any) -> HttpResponse:
        session = link_session_for_token(link_token)
        if session is None:
            return _no_framing(render(request, "connect/invalid.html", status=404))
        if request.method == "POST" and not _same_origin(request):
            return _no_framing(HttpResponse("Cross-origin request refused.", status=403))
        request.link_token = link_token
        with translation.override(session.locale):
            response = view(request, session, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return allow_framing(response, session.allowed_origin)

    return wrapper


def _same_origin(request: Any) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.get_host()}"


def _no_framing(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    return response


def screen(
    request: Any,
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
        "link_token": request.link_token,
        "screen_name": name,
    }
    return render(request, template, base | context, status=status)


def flow_url(request: Any, name: str, *args: str) -> str:
    return reverse(f"connect:{name}", args=[request.link_token, *args])


def _closed(request: Any, session: LinkSession) -> HttpResponse | None:
    if session.validated_at and session.connection_id:
        if request.resolver_match.url_name == "done":
            return None
        return HttpResponseRedirect(flow_url(request, "done"))
    if session.locked_at:
        return screen(request, session, "closed", {"reason": "locked"}, status=403)
    if session.is_expired:
        return screen(request, session, "closed", {"reason": "expired"}, status=410)
    return None


def _definition(session: LinkSession, slug: str) -> tuple[System, SystemDefinition]:
    """A system this session may connect, with its definition; 404 otherwise."""
    allowed = session.systems or None
    if session.connection_id:
        allowed = [session.connection.system_id]
    system = System.objects.listed().filter(slug=slug).first()
    definition = get_definition(slug)
    if system is None or definition is None or (allowed and slug not in allowed):
        raise Http404("No such system for this link.")
    return system, definition


@require_GET
@flow_view
def start(request: Any, session: LinkSession) -> HttpResponse:
    if closed := _closed(request, session):
        return closed
    link_session_mark(session=session, milestone="opened")
    only = _only_system(session)
    if only:
        return HttpResponseRedirect(flow_url(request, "system", only))
    return screen(request, session, "choose", {"systems": _systems(session, ""), "query": ""})


def _only_system(session: LinkSession) -> str:
    if session.connection_id:
        return session.connection.system_id
    return session.systems[0] if len(session.systems) == 1 else ""


def _systems(session: LinkSession, query: str) -> list[System]:
    systems = System.objects.listed()
    if session.systems:
        systems = systems.filter(slug__in=session.systems)
    return list(systems.search(query[:100])[:50])


@require_GET
@flow_view
def search(request: Any, session: LinkSession) -> HttpResponse:
    if closed := _closed(request, session):
        return closed
    query = request.GET.get("q", "")[:100]
    context = {"systems": _systems(session, query), "query": query}
    return screen(request, session, "choose", context, partial="results")


@require_GET
@flow_view
def system(request: Any, session: LinkSession, slug: str) -> HttpResponse:
    if closed := _closed(request, session):
        return closed
    row, definition = _definition(session, slug)
    link_session_mark(session=session, milestone="system", value=slug)
    back_url = "" if _only_system(session) else flow_url(request, "start")
    if definition.coming_soon:
        return screen(
            request,
            session,
            "soon",
            {"system": row, "definition": definition, "back_url": back_url},
        )
    if len(definition.methods) == 1:
        return HttpResponseRedirect(flow_url(request, "prepare", slug, definition.methods[0].id))
    methods = sorted(definition.methods, key=lambda m: not m.recommended)
    context = {"system": row, "definition": definition, "methods": methods, "back_url": back_url}
    return screen(request, session, "method", context)


def _method_context(
    request: Any, session: LinkSession, slug: str, method_id: str, back: str
) -> dict[str, Any]:
    """The system and method a screen is about, and where its Back link goes."""
    row, definition = _definition(session, slug)
    method = definition.method(method_id)
    if method is None:
        raise Http404("No such method.")
    if back == "prepare":
        back_url = flow_url(request, "prepare", slug, method.id)
    elif len(definition.methods) > 1:
        back_url = flow_url(request, "system", slug)
    else:
        back_url = "" if _only_system(session) else flow_url(request, "start")
    return {"system": row, "definition": definition, "method": method, "back_url": back_url}


@require_GET
@flow_view
def prepare(request: Any, session: LinkSession, slug: str, method_id: str) -> HttpResponse:
    if closed := _closed(request, session):
        return closed
    context = _method_context(request, session, slug, method_id, back="system")
    link_session_mark(session=session, milestone="method", value=method_id)
    link_session_mark(session=session, milestone="guide")
    return screen(request, session, "prepare", context)


@require_http_methods(["GET", "POST"])
@flow_view
def details(request: Any, session: LinkSession, slug: str, method_id: str) -> HttpResponse:
    if closed := _closed(request, session):
        return closed
    context = _method_context(request, session, slug, method_id, back="prepare")
    definition, method = context["definition"], context["method"]
    if request.method == "POST":
        return _submit_details(request, session, definition, method, context)
    initial = _initial_config(session, slug)
    on_file = _secrets_for(session, definition, method, initial)
    form = DetailsForm(
        specs=definition.fields + method.fields,
        initial=initial,
        secrets_on_file=frozenset(on_file),
    )
    return screen(request, session, "details", context | {"form": form})


def _initial_config(session: LinkSession, slug: str) -> dict[str, str]:
    last = session.attempts.filter(system_slug=slug).order_by("-created_at").first()
    if last is not None:
        return last.config
    return session.connection.config if session.connection_id else {}


def _submit_details(
    request: Any,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    context: dict[str, Any],
) -> HttpResponse:
    specs = definition.fields + method.fields
    probe = DetailsForm(request.POST, specs=specs)
    probe.is_valid()  # only to read the normalised instance fields
    on_file = _secrets_for(session, definition, method, probe.cleaned_data)
    form = DetailsForm(request.POST, specs=specs, secrets_on_file=frozenset(on_file))
    if not form.is_valid():
        return screen(request, session, "details", context | {"form": form}, status=422)
    config, credentials = form.split()
    credentials = {name: value or on_file.get(name, "") for name, value in credentials.items()}
    try:
        attempt = attempt_start(
            session=session,
            definition=definition,
            method=method,
            config=config,
            credentials=credentials,
            client_ip=request.META.get("REMOTE_ADDR", ""),
        )
    except OnrampError as exc:
        form.add_error(None, exc.message)
        return screen(request, session, "details", context | {"form": form}, status=exc.status)
    return _to_attempt(request, attempt)


def _secrets_for(
    session: LinkSession, definition: SystemDefinition, method: MethodSpec, values: dict
) -> dict[str, str]:
    """Secrets already entered in this session, if the instance fields are unchanged."""
    instance = {spec.name: values.get(spec.name) for spec in definition.fields}
    if any(value is None for value in instance.values()):
        return {}
    return secrets_on_file(
        session=session, system_slug=definition.slug, method_id=method.id, instance=instance
    )


def _to_attempt(request: Any, attempt: ValidationAttempt) -> HttpResponse:
    url = flow_url(request, "attempt", attempt.id)
    if request.htmx:
        response = attempt_screen(request, attempt)
        response["HX-Push-Url"] = url
        return response
    response = HttpResponseRedirect(url)
    response.status_code = 303  # See Other: the browser follows a POST with a GET
    return response


@require_GET
@flow_view
def attempt(request: Any, session: LinkSession, attempt_id: str) -> HttpResponse:
    found = session.attempts.filter(pk=attempt_id).first()
    if found is None:
        raise Http404("No such attempt.")
    if found.status == AttemptStatus.SUCCEEDED:
        done_url = flow_url(request, "done")
        return (
            HttpResponseClientRedirect(done_url)
            if request.htmx
            else HttpResponseRedirect(done_url)
        )
    return attempt_screen(request, found, poll=request.GET.get("poll") == "1")


def attempt_screen(request: Any, attempt: ValidationAttempt, poll: bool = False) -> HttpResponse:
    session = attempt.link_session
    steps = [
        {"key": key, "label": STEP_LABELS[key], "state": attempt.steps.get(key, "pending")}
        for key in STEPS
    ]
    context = {
        "attempt": attempt,
        "steps": steps,
        "definition": get_definition(attempt.system_slug),
        "poll_url": flow_url(request, "attempt", attempt.id) + "?poll=1",
        "edit_url": flow_url(request, "details", attempt.system_slug, attempt.method),
    }
    partial = "progress" if poll else "screen"
    return screen(request, session, "validate", context, partial=partial)


@require_GET
@flow_view
def done(request: Any, session: LinkSession) -> HttpResponse:
    if closed := _closed(request, session):
        return closed
    try:
        public_token = link_session_complete(session=session)
    except OnrampError as exc:
        return screen(request, session, "closed", {"reason": exc.code}, status=exc.status)
    session.refresh_from_db()
    return screen(
        request,
        session,
        "done",
        {
            "public_token": public_token,
            "system": session.connection.system,
            "return_url": _return_url(session),
        },
    )


def _return_url(session: LinkSession) -> str:
    if not session.redirect_url:
        return ""
    separator = "&" if "?" in session.redirect_url else "?"
    return f"{session.redirect_url}{separator}link_session_id={session.id}&status=success"


@require_POST
@flow_view
def exit_flow(request: Any, session: LinkSession) -> HttpResponse:
    link_session_mark(session=session, milestone="exited")
    return HttpResponse(status=204)
