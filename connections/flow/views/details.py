"""The details screen: instance fields and credentials (and whatever the method's flow
step adds, such as a certificate's key pair), submitted for live validation."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.schema import MethodSpec, SystemDefinition
from connections.agents.reach import needs_agent
from connections.agents.services import pairing_start
from connections.errors import OnrampError, with_headers
from connections.flow.forms import DetailsForm
from connections.flow.steps import StepIncomplete, step_for
from connections.flow.views.base import (
    HtmxHttpRequest,
    flow_screen,
    flow_url,
    method_context,
    note,
    remember_screen,
    screen,
    see_other,
)
from connections.flow.views.flow import done_screen
from connections.flow.views.validate import attempt_screen
from connections.http.clientip import client_ip
from connections.models import AttemptStatus, LinkSession, ValidationAttempt
from connections.selectors import last_attempt, link_session_now
from connections.services.attempt_notices import attempt_notice_wait
from connections.services.link_sessions import draft_values, link_session_save_draft
from connections.services.validation import attempt_start, secrets_on_file
from connections.verification.run import build_target

# Seconds a submit waits for its check to end before it shows the progress screen: a quick
# check goes straight to its result, with no poll's delay (a gunicorn thread waits meanwhile,
# on Redis, costing no query).
RESULT_WAIT = 1.0


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()  # credentials: hidden from error reports (http/error_reports.py)
@sensitive_variables()
@flow_screen
def details(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    context = method_context(request, session, slug, method_id, back="prepare")
    definition, method = context["definition"], context["method"]
    if step := step_for(method):
        context |= {"step": step, "choose_again": request.GET.get("certificate") == "new"}
        context |= step.context(session, method)
    if request.method == "POST":
        return _submit_details(request, session, definition, method, context)
    note(request, session, "method", method.id)  # its guide may have been skipped
    remember_screen(request, session)
    last = last_attempt(session)
    initial = _initial_config(session, definition, method, last)
    on_file = _secrets_for(last, definition, method, initial)
    form = DetailsForm(
        specs=definition.fields + method.fields,
        initial=initial,
        secrets_on_file=frozenset(on_file),
    )
    return screen(request, session, "details", context | {"form": form})


def _initial_config(
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    last: ValidationAttempt | None,
) -> dict[str, str]:
    """What the form starts with: the last check's values on this system, else the
    connection's (when reconnecting), then whatever was typed since (the draft)."""
    if last is not None and last.system_slug != definition.slug:
        last = last_attempt(session, definition.slug)  # the last check was of another system
    if last is not None:
        values = dict(last.config)
    else:
        values = dict(session.connection.config) if session.connection_id else {}
    return values | draft_values(session, definition, method)


def _submit_details(
    request: HtmxHttpRequest,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    context: dict[str, Any],
) -> HttpResponse:
    specs = definition.fields + method.fields
    # Secrets on file stand in for secret fields left blank (and are offered again when the
    # form comes back with an error); a submit with every secret typed needs none.
    on_file = {}
    if _secret_left_blank(request, specs):
        on_file = _posted_secrets_on_file(request, session, definition, method)
    on_premises = definition.on_premises
    form = DetailsForm(
        request.POST, specs=specs, secrets_on_file=frozenset(on_file), on_premises=on_premises
    )
    if not form.is_valid():
        on_file = on_file or _posted_secrets_on_file(request, session, definition, method)
        form = DetailsForm(
            request.POST, specs=specs, secrets_on_file=frozenset(on_file), on_premises=on_premises
        )
        form.is_valid()  # the errors, on the form shown again
        return screen(request, session, "details", context | {"form": form}, status=422)
    config, credentials = form.split()
    credentials = {name: value or on_file.get(name, "") for name, value in credentials.items()}
    if step := context.get("step"):
        try:
            extra_config, extra_credentials = step.contribute(session, method)
        except StepIncomplete as incomplete:
            form.add_error(None, incomplete.message)
            return screen(request, session, "details", context | {"form": form}, status=422)
        config, credentials = config | extra_config, credentials | extra_credentials
    if on_premises and needs_agent(build_target(definition, method, config).base_url):
        pairing_start(
            session=session,
            definition=definition,
            method=method,
            config=config,
            credentials=credentials,
        )
        return _to_agent(request)
    try:
        attempt = attempt_start(
            session=session,
            definition=definition,
            method=method,
            config=config,
            credentials=credentials,
            client_ip=client_ip(request),
        )
    except OnrampError as exc:
        form.add_error(None, exc.message)
        response = screen(request, session, "details", context | {"form": form}, status=exc.status)
        return with_headers(response, exc)
    return to_attempt(request, attempt)


def _to_agent(request: HtmxHttpRequest) -> HttpResponse:
    """A private instance: to the agent screen (its pairing code, its install steps)."""
    url = flow_url(request, "agent")
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return see_other(url)


def _secret_left_blank(request: HtmxHttpRequest, specs: tuple) -> bool:
    return any(spec.secret and not request.POST.get(spec.name) for spec in specs)


def _posted_secrets_on_file(
    request: HtmxHttpRequest,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
) -> dict[str, str]:
    probe = DetailsForm(request.POST, specs=definition.fields + method.fields)
    probe.is_valid()  # only to read the normalised instance fields
    return _secrets_for(last_attempt(session), definition, method, probe.cleaned_data)


def _secrets_for(
    last: ValidationAttempt | None, definition: SystemDefinition, method: MethodSpec, values: dict
) -> dict[str, str]:
    """Secrets already entered in this session, if the instance fields are unchanged."""
    instance = {spec.name: values.get(spec.name) for spec in definition.fields}
    if any(value is None for value in instance.values()):
        return {}
    return secrets_on_file(
        last=last, system_slug=definition.slug, method_id=method.id, instance=instance
    )


def to_attempt(request: HtmxHttpRequest, attempt: ValidationAttempt) -> HttpResponse:
    """Where a submit goes: a check that ended within ``RESULT_WAIT`` straight to its result
    (the done screen, or why it failed), a longer one (or one the broker did not take) to its
    progress screen."""
    ended = attempt_notice_wait(attempt=attempt, seconds=RESULT_WAIT)
    if ended == AttemptStatus.SUCCEEDED:
        return _to_done(request, attempt.link_session)
    url = flow_url(request, "attempt", attempt.id)
    if request.htmx:
        if ended:
            attempt.refresh_from_db()  # failed: what to fix, at once
        response = attempt_screen(request, attempt)
        response["HX-Push-Url"] = url
        return response
    return see_other(url)


def _to_done(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The connected screen in this very answer for htmx (no second request), else a
    redirect to it."""
    url = flow_url(request, "done")
    if not request.htmx:
        return see_other(url)
    response = done_screen(request, link_session_now(session))
    response["HX-Push-Url"] = url
    return response


@require_POST
@flow_screen
def draft(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    """Keep what the end user typed so far (non-secret fields only), to resume with it."""
    context = method_context(request, session, slug, method_id, back="prepare")
    try:
        link_session_save_draft(
            session=session,
            definition=context["definition"],
            method=context["method"],
            values=request.POST,
        )
    except OnrampError as exc:  # typed faster than drafts are kept
        return with_headers(HttpResponse(status=exc.status), exc)
    return HttpResponse(status=204)
