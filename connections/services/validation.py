"""Validation attempts: start one (limits, encryption, enqueue) and run it (in a worker)."""

from __future__ import annotations

import logging
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.registry import get_definition
from catalog.schema import MethodSpec, SystemDefinition
from connections import crypto
from connections.errors import OnrampError
from connections.failures import STEPS, Outcome, describe
from connections.models import (
    IN_FLIGHT,
    AttemptStatus,
    Connection,
    ConnectionStatus,
    LinkSession,
    ValidationAttempt,
)
from connections.ratelimit import Limit, enforce
from connections.services.connections import (
    attempt_credentials,
    connection_activate,
    connection_credentials,
    connection_record_revalidation,
)
from connections.services.events import event_record
from connections.services.link_sessions import public_token_issue
from connections.verification import build_target, verify

logger = logging.getLogger(__name__)


@transaction.atomic
def attempt_start(
    *,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    config: dict[str, str],
    credentials: dict[str, str],
    client_ip: str,
) -> ValidationAttempt:
    """Check limits, store the candidate (secrets encrypted) and queue its validation.

    One attempt is in flight per session: the session row is locked while we look, and a
    partial unique index refuses a second one however the requests race. A submit while
    one is queued or running gets that one back.
    """
    session = LinkSession.objects.select_for_update().get(pk=session.pk)
    if not session.is_usable:
        raise OnrampError("session_closed", "This link can no longer be used.", 403)
    if in_flight := session.attempts.filter(status__in=IN_FLIGHT).first():
        return in_flight
    host = urlsplit(build_target(definition, method, config).base_url).hostname or ""
    _enforce_limits(session=session, client_ip=client_ip, host=host)
    attempt = ValidationAttempt(
        link_session=session,
        system_slug=definition.slug,
        method=method.id,
        config=config,
        steps=_initial_steps(),
    )
    attempt.credentials = crypto.seal(
        credentials, aad=crypto.associated_data(attempt, "credentials")
    )
    try:
        with transaction.atomic():
            attempt.save()
    except IntegrityError:  # another request won the race (SQLite has no row locks)
        return session.attempts.get(status__in=IN_FLIGHT)
    _enqueue(attempt)
    return attempt


@transaction.atomic
def attempt_start_revalidation(
    *, connection: Connection, actor: str, limited: bool = True
) -> ValidationAttempt:
    """Queue a fresh live check of a stored connection with its stored credentials.

    A check already in flight is returned instead of a second one. ``limited`` checks
    (asked for by a partner or operator) are throttled per connection: each one signs in
    to the customer's system with their stored credentials.
    """
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status == ConnectionStatus.REVOKED:
        raise OnrampError("connection_revoked", "This connection has been revoked.", 409)
    in_flight = connection.attempts.filter(status__in=IN_FLIGHT, link_session=None).first()
    if in_flight is not None:
        return in_flight
    if limited:
        limit = Limit(
            f"onramp:revalidate:{connection.pk}",
            settings.ONRAMP_REVALIDATIONS_PER_CONNECTION_MINUTE,
            60,
        )
        enforce((limit, _("This connection was checked a moment ago. Try again shortly.")))
    attempt = ValidationAttempt.objects.create(
        connection=connection,
        system_slug=connection.system_id,
        method=connection.method,
        config=connection.config,
        steps=_initial_steps(),
    )
    event_record(
        partner=connection.partner,
        kind="connection.revalidation_requested",
        actor=actor,
        connection=connection,
        data={"attempt": attempt.id},
    )
    _enqueue(attempt)
    return attempt


def secrets_on_file(
    *, session: LinkSession, system_slug: str, method_id: str, instance: dict[str, str]
) -> dict[str, str]:
    """Secrets from this session's last attempt on the same system, method and instance.

    They let a user fix a typo without typing every secret again. A changed instance
    (where the secrets would be sent) never reuses them (SECURITY.md rule 3).
    """
    last = session.attempts.order_by("-created_at").first()
    if last is None or (last.system_slug, last.method) != (system_slug, method_id):
        return {}
    if {name: last.config.get(name) for name in instance} != instance:
        return {}
    return attempt_credentials(last)


def _initial_steps() -> dict[str, str]:
    return dict.fromkeys(STEPS, "pending")


def _enforce_limits(*, session: LinkSession, client_ip: str, host: str) -> None:
    """Per IP, then per end user, then per partner and host, then per host for everyone.

    Each narrower limit is checked first, so one end user cannot spend the budget that a
    partner's other end users share, nor one partner the remote system's ceiling.
    """
    partner = session.partner_id
    busy = _("Too many attempts against this system right now. Wait a minute and try again.")
    per_host, everyone = (
        settings.ONRAMP_VALIDATIONS_PER_HOST_MINUTE,
        settings.ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL,
    )
    enforce(
        (
            Limit(f"onramp:va:ip:{client_ip}", settings.ONRAMP_VALIDATIONS_PER_IP_HOUR, 3600),
            _("Too many attempts from your network. Wait a while and try again."),
        ),
        (
            Limit(
                f"onramp:va:user:{partner}:{session.end_user_id}:{host}",
                settings.ONRAMP_VALIDATIONS_PER_END_USER_MINUTE,
                60,
            ),
            _("Too many attempts in a short time. Wait a minute and try again."),
        ),
        (Limit(f"onramp:va:host:{partner}:{host}", per_host, 60), busy),
        (Limit(f"onramp:va:host:{host}", everyone, 60), busy),
    )


def _enqueue(attempt: ValidationAttempt) -> None:
    from connections import tasks  # tasks import services; enqueue lazily to avoid a cycle

    transaction.on_commit(partial(tasks.run_validation.delay, attempt.id))


def attempt_run(*, attempt_id: str) -> None:
    """Run one queued attempt to its end and apply the result. Safe to call twice."""
    attempt = (
        ValidationAttempt.objects.select_related("link_session__partner", "connection__partner")
        .filter(pk=attempt_id)
        .first()
    )
    if attempt is None or attempt.is_finished:
        return
    attempt.status = AttemptStatus.RUNNING
    attempt.save(update_fields=["status"])
    outcome = _verify_attempt(attempt)
    if outcome is None:
        _succeed(attempt)
    else:
        _fail(attempt, outcome)


def _verify_attempt(attempt: ValidationAttempt) -> Outcome | None:
    definition = get_definition(attempt.system_slug)
    method = definition.method(attempt.method) if definition else None
    if method is None:
        return describe("internal_error")
    target = build_target(definition, method, attempt.config)
    try:
        credentials = (
            connection_credentials(attempt.connection)
            if attempt.connection_id
            else attempt_credentials(attempt)
        )
        return verify(target, credentials, partial(_save_step, attempt))
    except Exception:  # a bug must not leave the user waiting forever
        logger.exception("validation attempt %s crashed", attempt.id)
        return describe("internal_error")


def _save_step(attempt: ValidationAttempt, step: str, state: str) -> None:
    attempt.steps[step] = state
    attempt.save(update_fields=["steps"])


@transaction.atomic
def _succeed(attempt: ValidationAttempt) -> None:
    _finish(attempt, AttemptStatus.SUCCEEDED)
    session = attempt.link_session
    if session is not None:
        session.connection = connection_activate(attempt=attempt, session=session)
        session.validated_at = timezone.now()
        session.save(update_fields=["connection", "validated_at"])
        public_token_issue(session)
        # The connection now holds the secrets; keep no other copy of them.
        session.attempts.update(credentials="")
        session.signing_keys.update(private_key="")
    else:
        connection_record_revalidation(connection=attempt.connection, passed=True)


@transaction.atomic
def _fail(attempt: ValidationAttempt, outcome: Outcome) -> None:
    attempt.error_code, attempt.error_message = outcome.code, outcome.message[:500]
    attempt.error_advice, attempt.error_detail = outcome.advice[:500], outcome.detail[:300]
    _finish(attempt, AttemptStatus.FAILED)
    if attempt.link_session is not None:
        _count_failure(attempt.link_session)
    else:
        connection_record_revalidation(
            connection=attempt.connection, passed=False, code=outcome.code, message=outcome.message
        )


def _finish(attempt: ValidationAttempt, status: str) -> None:
    attempt.status = status
    attempt.finished_at = timezone.now()
    attempt.save()


def _count_failure(session: LinkSession) -> None:
    LinkSession.objects.filter(pk=session.pk).update(failed_attempts=F("failed_attempts") + 1)
    session.refresh_from_db(fields=["failed_attempts", "locked_at"])
    if session.failed_attempts >= settings.ONRAMP_SESSION_MAX_FAILURES and not session.locked_at:
        session.locked_at = timezone.now()
        session.save(update_fields=["locked_at"])
        event_record(
            partner=session.partner,
            kind="link_session.locked",
            actor="system",
            link_session=session,
            data={"failed_attempts": session.failed_attempts},
        )
