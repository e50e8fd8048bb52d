"""A validation attempt's life after it is queued: dispatch, run, finish, sweep.

At least once, exactly one result: a message may be delivered twice or never, a worker may
die mid-run, the database may blink as a run ends. So a run *claims* its attempt with a
conditional UPDATE (and a lease, ``claimed_until``), applies its result only if it still
holds the claim, and the sweeper (Celery beat) re-sends attempts whose message was lost,
re-runs once those whose lease lapsed, and ends with ``error`` whatever is still unfinished
after ``ONRAMP_ATTEMPT_TIMEOUT``. Readers expire overdue attempts too, so nothing polls
forever even without beat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation

from catalog.registry import get_definition
from connections.agents.routing import (
    agent_bind,
    agent_route_for_connection,
    agent_route_for_session,
)
from connections.dispatch import Task, task_send
from connections.events import EventKind
from connections.languages import language_of
from connections.models import (
    IN_FLIGHT,
    AttemptStatus,
    CredentialFile,
    LinkSession,
    SigningKey,
    StageState,
    ValidationAttempt,
)
from connections.outbound.agent_routes import AgentRoute, agent_routed
from connections.outbound.errors import OutboundError
from connections.services.admission import InLine, check_admitted, check_joins_line
from connections.services.attempt_notices import attempt_notice_send
from connections.services.audit import event_record
from connections.services.connections import (
    ConnectionRevoked,
    connection_activate,
    connection_credentials_fresh,
    connection_record_check,
)
from connections.services.credentials import attempt_credentials
from connections.services.link_sessions import (
    PUBLIC_TOKEN_FIELDS,
    link_session_completed,
    public_token_mint,
)
from connections.services.oauth import app_headers_for
from connections.verification.failures import CHECK_STAGES, FAILURES, Outcome, describe
from connections.verification.run import build_target, verify

logger = logging.getLogger(__name__)
MAX_RUNS = 2  # the first run, and one re-run after a lost worker
ERROR_FIELDS = ("error_code", "error_message", "error_advice", "error_detail")


def timeout() -> timedelta:
    return timedelta(seconds=settings.ONRAMP_ATTEMPT_TIMEOUT)


def lease() -> timedelta:
    """How long a run may hold its attempt without a sign of life before it is taken for
    dead: a third of the timeout, but never shorter than one remote call may take (the
    outbound deadline), and each stage a run reaches renews it. So a slow check is never
    taken for dead and run twice while it runs (defaults: 40 s against a 25 s deadline)."""
    slowest_call = timedelta(seconds=settings.ONRAMP_OUTBOUND_DEADLINE + 1)
    return min(max(timeout() / 3, slowest_call), timeout() / 2)


# --- dispatch -----------------------------------------------------------------------------


def attempt_enqueue(attempt: ValidationAttempt) -> None:
    """Send the attempt to a worker once the transaction that made it commits. An attempt
    written with ``dispatched_at`` set (``attempt_start``) costs no UPDATE when it is sent;
    one that could not be sent says so (``dispatched_at`` None) to whoever holds it."""
    transaction.on_commit(partial(_send, attempt, attempt.dispatched_at is not None))


def _send(attempt: ValidationAttempt, noted: bool) -> None:
    if check_joins_line(attempt=attempt, call_next=_hand_on):
        return  # its partner's share is taken: a check that ends sends it
    if not attempt_dispatch(attempt_id=attempt.id, noted=noted):
        attempt.dispatched_at = None  # the sweeper sends it later


def attempt_dispatch(*, attempt_id: str, noted: bool = False, countdown: float = 0) -> bool:
    """Put the attempt's task on the broker. A broker that is down is not an error here:
    the attempt stays queued (undispatched) and the sweeper sends it later."""
    return task_send(
        Task.RUN_VALIDATION, ValidationAttempt, attempt_id, noted=noted, countdown=countdown
    )


# --- run ------------------------------------------------------------------------------------


def attempt_run(*, attempt_id: str, run_id: str) -> None:
    """Run one attempt to its end and apply the result, if this run holds its claim and its
    partner has a check slot free (else it waits in its partner's line, queued:
    ``services/admission.py``).

    Safe to call any number of times with the same id: only one run claims the attempt.
    ``run_id`` (the task's id) lets a retry of the same delivery take its claim back.
    """
    try:
        with check_admitted(attempt_id=attempt_id, call_next=_hand_on):
            _run(attempt_id, run_id)
    except InLine as line:
        if line.retry_in is not None:  # no line to wait in (Redis is out)
            attempt_dispatch(attempt_id=attempt_id, countdown=line.retry_in)


def _hand_on(attempt_id: str) -> None:
    """A check ended: the first of its partner's line is sent to the workers."""
    attempt_dispatch(attempt_id=attempt_id)


def _run(attempt_id: str, run_id: str) -> None:
    attempt = _claim(attempt_id, run_id)
    if attempt is None:
        return
    session = attempt.link_session
    with translation.override(language_of(session.locale if session else "")):
        outcome = _verify(attempt)  # its messages in the end user's language
    if _settle(attempt, outcome, run_id) and session is not None:
        attempt_notice_send(attempt_id=attempt.id, status=attempt.status)  # committed: tell


def _claim(attempt_id: str, run_id: str) -> ValidationAttempt | None:
    """Take the attempt for this run: a queued one (a run of the budget of ``MAX_RUNS``), or
    one this run already holds (the task retried after a database blink: no new run)."""
    now = timezone.now()
    startable = ValidationAttempt.objects.filter(pk=attempt_id, created_at__gt=now - timeout())
    claim = {"status": AttemptStatus.RUNNING, "claimed_by": run_id, "claimed_until": now + lease()}
    claimed = startable.filter(status=AttemptStatus.QUEUED).update(**claim, runs=F("runs") + 1)
    if not claimed:
        claimed = startable.filter(status=AttemptStatus.RUNNING, claimed_by=run_id).update(**claim)
    if not claimed:
        return None
    return (
        ValidationAttempt.objects.select_related("link_session__partner", "connection__partner")
        .annotate(**_copies_held())
        .get(pk=attempt_id)
    )


def _copies_held() -> dict[str, Exists]:
    """Whether the session holds other copies of secrets, which a passed check erases (read
    with the claim, so a check that passes on the first try erases nothing it has not)."""
    session = OuterRef("link_session")
    others = ValidationAttempt.objects.filter(link_session=session).exclude(pk=OuterRef("pk"))
    return {
        "other_credentials_held": Exists(others.exclude(credentials="")),
        "signing_keys_held": Exists(
            SigningKey.objects.filter(link_session=session).exclude(private_key="")
        ),
        "credential_files_held": Exists(
            CredentialFile.objects.filter(link_session=session).exclude(secrets="")
        ),
    }


def _verify(attempt: ValidationAttempt) -> Outcome | None:
    definition = get_definition(attempt.system_slug)
    method = definition.method(attempt.method) if definition else None
    if method is None:
        return describe("internal_error")
    app = app_headers_for(attempt.link_session.partner_id, definition.slug, method)
    if app is None:  # the partner's app for the system is gone: nothing the user can fix
        return describe("internal_error")
    target = build_target(definition, method, attempt.config, app)
    progress = _Progress(attempt)
    try:
        credentials = (
            connection_credentials_fresh(attempt.connection)
            if attempt.connection_id
            else attempt_credentials(attempt)
        )
        with agent_routed(_agent_route(attempt)):
            return verify(target, credentials, progress.reached, progress.waiting)
    except DatabaseError:
        raise  # the task retries; the attempt keeps its claim
    except OutboundError as exc:  # the token endpoint, while refreshing before the check
        return describe(exc.code if exc.code in FAILURES else "connection_failed")
    except Exception:  # a bug (or a missing key) must not leave anyone waiting forever
        logger.exception("validation attempt %s crashed", attempt.id)
        return describe("internal_error")


def _agent_route(attempt: ValidationAttempt) -> AgentRoute | None:
    """An on-premises instance's check goes through its agent (``connections/agents``)."""
    if attempt.connection_id:
        return agent_route_for_connection(attempt.connection)
    if not attempt.link_session_id:
        return None
    return agent_route_for_session(attempt.link_session, attempt.system_slug)


class _Progress:
    """The steps a run reaches, written (with its lease renewed, while it holds the claim)
    just before the run waits on the system again: one write per further wait, none at the
    end, where the result carries the steps."""

    def __init__(self, attempt: ValidationAttempt) -> None:
        self.attempt = attempt
        self.unsaved = False

    def reached(self, states: dict[str, str]) -> None:
        self.attempt.steps.update(states)
        self.unsaved = True

    def waiting(self) -> None:
        if not self.unsaved:
            return
        ValidationAttempt.objects.filter(
            pk=self.attempt.pk, status=AttemptStatus.RUNNING, claimed_by=self.attempt.claimed_by
        ).update(steps=self.attempt.steps, claimed_until=timezone.now() + lease())
        self.unsaved = False


@transaction.atomic
def _settle(attempt: ValidationAttempt, outcome: Outcome | None, run_id: str) -> bool:
    """Apply a run's result, if the run still holds the attempt (else another run does: this
    one's writes are undone, and this is False).

    The attempt's row is written after the session's, the order a submit takes them in (it
    locks the session, then stores an attempt that the index may make wait on this one), so
    the two never wait on each other; the UPDATE that ends the attempt is conditional on the
    claim.
    """
    applied = _succeed(attempt, run_id) if outcome is None else _fail(attempt, outcome, run_id)
    if not applied:
        transaction.set_rollback(True)
    return applied


def _succeed(attempt: ValidationAttempt, run_id: str) -> bool:
    session = attempt.link_session
    if session is None:  # a revalidation of a stored connection
        if not _finish(attempt, AttemptStatus.SUCCEEDED, held_by=run_id):
            return False
        connection_record_check(connection_id=attempt.connection_id, outcome=None)
        return True
    try:
        session.connection = connection_activate(attempt=attempt, session=session)
        agent_bind(session=session, connection=session.connection)
    except ConnectionRevoked:  # revoked while the check ran: it stays revoked
        return _fail(attempt, describe("connection_revoked"), run_id)
    _complete(session)
    # The connection holds the secrets now: the attempt keeps no copy of them.
    if not _finish(attempt, AttemptStatus.SUCCEEDED, held_by=run_id, erase_credentials=True):
        return False
    _erase_other_copies(attempt, session)
    return True


def _complete(session: LinkSession) -> None:
    """The session made its connection: validated and completed, with its public token for
    the done screen, in one UPDATE, and its event."""
    session.validated_at = session.completed_at = timezone.now()
    public_token_mint(session)
    session.save(
        update_fields=["connection", "validated_at", "completed_at", *PUBLIC_TOKEN_FIELDS]
    )
    link_session_completed(session)


def _erase_other_copies(attempt: ValidationAttempt, session: LinkSession) -> None:
    """Secrets the session still holds elsewhere (earlier attempts, keys, files): erased.
    What the claim did not see held is skipped (``_copies_held``): anything added while the
    check ran is erased by the hourly purge once the session has expired."""
    if getattr(attempt, "other_credentials_held", True):
        session.attempts.exclude(pk=attempt.pk).update(credentials="")
    if getattr(attempt, "signing_keys_held", True):
        session.signing_keys.update(private_key="")
    if getattr(attempt, "credential_files_held", True):
        session.credential_files.update(secrets="")


def _fail(attempt: ValidationAttempt, outcome: Outcome, held_by: str | None = None) -> bool:
    attempt.error_code, attempt.error_message = outcome.code, outcome.message[:500]
    attempt.error_advice, attempt.error_detail = outcome.advice[:500], outcome.detail[:300]
    customers = outcome.blame.is_customers
    session = attempt.link_session
    if session is not None and customers:
        _count_failure(session)  # the session's row first (see ``_settle``)
    status = AttemptStatus.FAILED if customers else AttemptStatus.ERROR
    if not _finish(attempt, status, outcome.step, held_by=held_by):
        return False
    if session is None:
        connection_record_check(
            connection_id=attempt.connection_id, outcome=outcome, by_system=attempt.by_system
        )
    return True


def _finish(
    attempt: ValidationAttempt,
    status: str,
    failed_step: str = "",
    *,
    held_by: str | None = None,
    erase_credentials: bool = False,
) -> bool:
    """End the attempt with ``status``; with ``held_by``, only while that run still holds it
    (False when it no longer does)."""
    attempt.status = status
    attempt.finished_at = timezone.now()
    attempt.claimed_until = None
    attempt.steps = settled_steps(attempt.steps, failed_step)
    fields = {
        name: getattr(attempt, name)
        for name in ("status", "finished_at", "claimed_until", "steps", *ERROR_FIELDS)
    }
    if erase_credentials:
        fields["credentials"] = ""  # the in-memory copy stays, for the connection to take
    rows = ValidationAttempt.objects.filter(pk=attempt.pk)
    if held_by is not None:
        rows = rows.filter(status=AttemptStatus.RUNNING, claimed_by=held_by)
    return bool(rows.update(**fields))


def settled_steps(steps: dict[str, str], failed_step: str = "") -> dict[str, str]:
    """A finished check's steps, never contradicting each other: every step before the one
    that failed is done, the ones after it never ran; without a failure, all are done.
    ``failed_step``: where a check that ended in failure stopped, if no step says so."""
    recorded = next((key for key in CHECK_STAGES if steps.get(key) == StageState.FAILED), None)
    failed = recorded or (failed_step if failed_step in CHECK_STAGES else None)
    if failed is None:
        return dict.fromkeys(CHECK_STAGES, StageState.DONE)
    at = CHECK_STAGES.index(failed)
    return {
        key: StageState.DONE if n < at else StageState.FAILED if n == at else StageState.PENDING
        for n, key in enumerate(CHECK_STAGES)
    }


def _count_failure(session: LinkSession) -> None:
    LinkSession.objects.filter(pk=session.pk).update(failed_attempts=F("failed_attempts") + 1)
    session.refresh_from_db(fields=["failed_attempts", "locked_at"])
    if session.failed_attempts >= settings.ONRAMP_SESSION_MAX_FAILURES and not session.locked_at:
        session.locked_at = timezone.now()
        session.save(update_fields=["locked_at"])
        event_record(
            partner=session.partner,
            kind=EventKind.LINK_SESSION_LOCKED,
            actor="system",
            link_session=session,
            data={"failed_attempts": session.failed_attempts},
        )


# --- sweep ------------------------------------------------------------------------------------


def attempt_sweep() -> dict[str, int]:
    """End overdue attempts, re-run lapsed ones once, re-send lost ones (Celery beat)."""
    now = timezone.now()
    expired = [a.pk for a in _overdue(now)]
    for attempt_id in expired:
        attempt_expire(attempt_id=attempt_id)
    return {
        "expired": len(expired),
        "rerun": _rerun_lapsed(now),
        "resent": _resend_lost(now),
    }


def _overdue(now: datetime) -> list[ValidationAttempt]:
    overdue = ValidationAttempt.objects.filter(
        status__in=IN_FLIGHT, created_at__lte=now - timeout()
    )
    lapsed_twice = ValidationAttempt.objects.filter(
        status=AttemptStatus.RUNNING, claimed_until__lt=now, runs__gte=MAX_RUNS
    )
    return list(overdue.only("pk")) + list(lapsed_twice.only("pk"))


def _rerun_lapsed(now: datetime) -> int:
    """A running attempt whose lease lapsed lost its worker: queue it again (once)."""
    lapsed = ValidationAttempt.objects.filter(
        status=AttemptStatus.RUNNING, claimed_until__lt=now, runs__lt=MAX_RUNS
    )
    requeued = []
    for attempt in lapsed.only("pk"):
        if ValidationAttempt.objects.filter(
            pk=attempt.pk, status=AttemptStatus.RUNNING, claimed_until__lt=now
        ).update(status=AttemptStatus.QUEUED, claimed_by="", dispatched_at=None):
            requeued.append(attempt.pk)
    for attempt_id in requeued:
        attempt_dispatch(attempt_id=attempt_id)
    return len(requeued)


def _resend_lost(now: datetime) -> int:
    """Queued but never sent (broker down), or sent a lease ago and never picked up (the
    broker lost its queue): send again. A duplicate message is harmless (claims)."""
    lost = ValidationAttempt.objects.filter(status=AttemptStatus.QUEUED).filter(
        Q(dispatched_at=None) | Q(dispatched_at__lt=now - lease())
    )
    ids = list(lost.values_list("pk", flat=True)[:500])
    return sum(attempt_dispatch(attempt_id=attempt_id) for attempt_id in ids)


@transaction.atomic
def attempt_expire(*, attempt_id: str) -> None:
    """End an unfinished attempt with ``error``: we could not finish checking."""
    attempt = (
        ValidationAttempt.objects.select_for_update(of=("self",))
        .select_related("link_session__partner", "connection__partner")
        .filter(pk=attempt_id, status__in=IN_FLIGHT)
        .first()
    )
    if attempt is not None:  # never started: every worker was busy, none was lost
        _fail(attempt, describe("busy" if attempt.runs == 0 else "worker_lost"))


def attempt_expire_if_overdue(attempt: ValidationAttempt) -> ValidationAttempt:
    """For readers (the flow's progress screen): the attempt, ended if it is overdue."""
    if attempt.is_finished or timezone.now() - attempt.created_at < timeout():
        return attempt
    attempt_expire(attempt_id=attempt.pk)
    attempt.refresh_from_db()
    return attempt
