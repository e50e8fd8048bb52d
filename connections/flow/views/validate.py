"""The validate screen: a live check's progress, polled until it ends, and how it ended: the
title says so, a failure says what to do (and how many tries are left, near the limit only),
a lock leads back to the partner."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from catalog.registry import get_definition
from connections.flow.views.base import HtmxHttpRequest, flow_url, flow_view, screen
from connections.flow.views.handoff import handoff_context
from connections.models import AttemptStatus, LinkSession, StageState, ValidationAttempt
from connections.services.attempts import attempt_expire_if_overdue, settled_steps
from connections.verification.failures import CHECK_STAGE_LABELS, CHECK_STAGES

POLL_MS, POLL_NEAR_END_MS = 700, 150  # the progress screen's next look, in milliseconds
TRIES_LEFT_SHOWN = 3  # "N more tries" from this many on, before the link locks
# Failures that trying again cannot fix: someone with administrator rights in the customer's
# system must act first (grant a permission, fix its certificate), so the screen offers the
# hand-off to them instead of counting tries down.
ADMIN_FIXES = frozenset({"forbidden", "tls_error"})


@require_GET
@flow_view
def attempt(request: HtmxHttpRequest, session: LinkSession, attempt_id: str) -> HttpResponse:
    found = next(iter(session.attempts.filter(pk=attempt_id)[:1]), None)
    if found is None:
        raise Http404("No such attempt.")
    found = attempt_expire_if_overdue(found)  # the flow never polls forever
    if found.status == AttemptStatus.SUCCEEDED:
        done_url = flow_url(request, "done")
        if request.htmx:
            return HttpResponseClientRedirect(done_url)
        return HttpResponseRedirect(done_url)
    return attempt_screen(request, found, poll=request.GET.get("poll") == "1")


def attempt_screen(
    request: HtmxHttpRequest, attempt: ValidationAttempt, poll: bool = False
) -> HttpResponse:
    session = attempt.link_session
    steps = [
        {"key": key, "label": CHECK_STAGE_LABELS[key], "state": state}
        for key, state in _step_states(attempt).items()
    ]
    definition = get_definition(attempt.system_slug)
    needs_admin = attempt.status == AttemptStatus.FAILED and attempt.error_code in ADMIN_FIXES
    context = {
        "attempt": attempt,
        "steps": steps,
        "definition": definition,
        "system": definition,
        "poll": poll,
        "poll_url": flow_url(request, "attempt", attempt.id) + "?poll=1",
        "poll_delay_ms": _poll_delay_ms(steps),
        "edit_url": flow_url(request, "details", attempt.system_slug, attempt.method),
        "attempts_left": 0 if needs_admin else _attempts_left(session, attempt),
        "needs_admin": needs_admin,
        "title": _attempt_title(attempt, definition.name),
    }
    method = definition.method(attempt.method)
    if needs_admin and method is not None and not session.locked_at:
        problem = attempt.error_message
        context |= handoff_context(request, definition.name, definition.slug, method, problem)
    partial = "progress" if poll else "screen"
    return screen(request, session, "validate", context, partial=partial)


def _attempt_title(attempt: ValidationAttempt, name: str) -> str:
    """The screen's title says how the check stands: not "Connecting" once it failed."""
    if not attempt.is_finished:
        return _("Connecting to %(name)s") % {"name": name}
    if attempt.link_session.locked_at:
        return _("This link is locked")
    return _("Could not connect to %(name)s") % {"name": name}


def _poll_delay_ms(steps: list[dict[str, str]]) -> int:
    """When to look again: soon once only the last step is left (the check is waiting on
    its last answer, so the result is near), at an easy pace before that."""
    near_end = all(step["state"] == StageState.DONE for step in steps[:-1])
    return POLL_NEAR_END_MS if near_end else POLL_MS


def _attempts_left(session: LinkSession, attempt: ValidationAttempt) -> int:
    """After a failure that counts towards the lock, near the limit only: how many tries
    remain (0: not shown; a warning from the first typo on would only alarm)."""
    if attempt.status != AttemptStatus.FAILED:
        return 0
    left = max(0, settings.ONRAMP_SESSION_MAX_FAILURES - session.failed_attempts)
    return left if left <= TRIES_LEFT_SHOWN else 0


def _step_states(attempt: ValidationAttempt) -> dict[str, str]:
    """Stored states, and the first step not yet done shown running while the check runs."""
    states = {key: attempt.steps.get(key, StageState.PENDING) for key in CHECK_STAGES}
    if attempt.is_finished:
        return settled_steps(states) if StageState.FAILED in states.values() else states
    if not attempt.is_finished:
        first_open = next((k for k, v in states.items() if v == StageState.PENDING), None)
        if first_open:
            states[first_open] = StageState.RUNNING
    return states
