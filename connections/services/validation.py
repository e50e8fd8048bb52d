"""Starting validation attempts: from the flow (limits, one in flight, secrets encrypted)
and revalidations of stored connections. Their runs are in ``attempts.py``."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from catalog.schema import MethodSpec, SystemDefinition
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import (
    IN_FLIGHT,
    Connection,
    ConnectionStatus,
    LinkSession,
    StageState,
    ValidationAttempt,
)
from connections.security import crypto
from connections.security.ratelimit import Limit, enforce
from connections.services.attempts import attempt_enqueue
from connections.services.audit import event_record
from connections.services.credentials import attempt_credentials
from connections.verification.failures import CHECK_STAGES
from connections.verification.run import build_target


@sensitive_variables()  # the credentials (http/error_reports.py)
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
    partial unique index refuses a second one however the requests race (the loser's
    transaction is undone whole, and it gets the winner's attempt). A submit while one is
    queued or running gets that one back, and spends none of the limits: they are counted
    once the attempt is stored (over one, the attempt is undone).
    """
    try:
        return _attempt_start(
            session=session,
            definition=definition,
            method=method,
            config=config,
            credentials=credentials,
            client_ip=client_ip,
        )
    except IntegrityError:  # a submit racing this one stored its attempt first
        return ValidationAttempt.objects.get(link_session=session, status__in=IN_FLIGHT)


@sensitive_variables()
@transaction.atomic
def _attempt_start(
    *,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    config: dict[str, str],
    credentials: dict[str, str],
    client_ip: str,
) -> ValidationAttempt:
    session = _locked(session)
    if not session.is_usable:
        raise OnrampError("session_closed", "This link can no longer be used.", 403)
    if session.connection_id and session.connection.status == ConnectionStatus.REVOKED:
        raise OnrampError(
            "connection_revoked",
            _("This connection was revoked. Ask for a new link to connect again."),
            409,
        )
    if session.in_flight_id:
        return ValidationAttempt.objects.get(pk=session.in_flight_id)
    attempt = ValidationAttempt(
        link_session=session,
        system_slug=definition.slug,
        method=method.id,
        config=config,
        steps=_initial_steps(),
        dispatched_at=timezone.now(),  # sent as this commits (``attempt_enqueue``)
    )
    attempt.credentials = crypto.seal(
        credentials, aad=crypto.associated_data(attempt, "credentials")
    )
    attempt.save()  # first: a racing submit's attempt refuses it before any budget is spent
    host = urlsplit(build_target(definition, method, config).base_url).hostname or ""
    _enforce_limits(session=session, client_ip=client_ip, host=host)  # over: all undone
    attempt_enqueue(attempt)
    return attempt


def _locked(session: LinkSession) -> LinkSession:
    """The session's row, locked until the transaction ends, with its reconnected connection
    and the id of an attempt in flight, if any (``in_flight_id``), in one query. (A submit
    that waited for the lock may not see the attempt its rival just stored: the index then
    refuses its own, see ``attempt_start``.)"""
    in_flight = ValidationAttempt.objects.filter(
        link_session=OuterRef("pk"), status__in=IN_FLIGHT
    ).values("pk")[:1]
    return (
        LinkSession.objects.select_for_update(of=("self",))
        .select_related("partner", "connection")
        .annotate(in_flight_id=Subquery(in_flight))
        .get(pk=session.pk)
    )


@transaction.atomic
def attempt_start_revalidation(
    *, connection: Connection, actor: str, by_system: bool = False
) -> ValidationAttempt:
    """Queue a fresh live check of a stored connection with its stored credentials.

    A check already in flight is returned instead of a second one. Checks a partner or
    operator asks for are throttled per connection: each one signs in to the customer's
    system with their stored credentials. Checks ``by_system`` (health checks) are spread
    out by their schedule instead, and one refused sign-in is not enough to make the
    connection invalid (``connection_record_check``).
    """
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status == ConnectionStatus.REVOKED:
        raise OnrampError("connection_revoked", "This connection has been revoked.", 409)
    in_flight = connection.attempts.filter(status__in=IN_FLIGHT, link_session=None).first()
    if in_flight is not None:
        return in_flight
    if not by_system:
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
        by_system=by_system,
    )
    event_record(
        partner=connection.partner,
        kind=EventKind.CONNECTION_REVALIDATION_REQUESTED,
        actor=actor,
        connection=connection,
        data={"attempt": attempt.id},
    )
    attempt_enqueue(attempt)
    return attempt


def secrets_on_file(
    *,
    last: ValidationAttempt | None,
    system_slug: str,
    method_id: str,
    instance: dict[str, str],
) -> dict[str, str]:
    """Secrets from the session's ``last`` attempt, if on the same system, method and instance.

    They let a user fix a typo without typing every secret again. A changed instance
    (where the secrets would be sent) never reuses them (SECURITY.md rule 3).
    """
    if last is None or (last.system_slug, last.method) != (system_slug, method_id):
        return {}
    if {name: last.config.get(name) for name in instance} != instance:
        return {}
    return attempt_credentials(last)


def _initial_steps() -> dict[str, str]:
    return dict.fromkeys(CHECK_STAGES, StageState.PENDING)


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
