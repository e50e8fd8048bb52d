"""Connections and their access tokens: activation, exchange, introspection, revocation."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from catalog.registry import get_definition
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import (
    Connection,
    ConnectionStatus,
    ConnectionToken,
    LinkSession,
    Mode,
    Partner,
    SyncedRecord,
    SyncState,
    ValidationAttempt,
)
from connections.schemes import SCHEMES
from connections.security import crypto, token_cache, tokens
from connections.security.tokens import TokenKind
from connections.services.audit import event_record
from connections.services.credentials import (
    attempt_credentials,
    connection_credentials,
    token_expiry,
)
from connections.services.oauth import RefreshRefused, oauth_credentials_fresh, oauth_revoke_later
from connections.verification.failures import FAILURES, Blame, Outcome, describe
from connections.verification.remote_sessions import session_forget

# Token use is recorded at most this often, to keep introspection a single read.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def connection_credentials_fresh(connection: Connection) -> dict[str, str]:
    """Credentials ready to use: refreshed first where the scheme's tokens expire.

    A refresh the provider refuses for good makes the connection invalid and raises."""
    if not SCHEMES[_method(connection).scheme].refreshes:
        return connection_credentials(connection)
    try:
        return oauth_credentials_fresh(connection)
    except RefreshRefused as refused:
        code = "refresh_interrupted" if refused.interrupted else "invalid_grant"
        connection_record_check(connection_id=connection.pk, outcome=describe(code))
        raise OnrampError(
            "connection_invalid", "The system no longer accepts this connection.", 409
        ) from None


def _method(connection: Connection) -> Any:
    definition = get_definition(connection.system_id)
    method = definition.method(connection.method) if definition else None
    if method is None:
        raise OnrampError("system_unavailable", "This system is no longer offered.", 409)
    return method


@sensitive_variables()  # the credentials (http/error_reports.py)
def connection_activate(*, attempt: ValidationAttempt, session: LinkSession) -> Connection:
    """Store a passed attempt as an active connection (new, or the one being reconnected).

    A reconnect locks the connection's row and refuses a revoked one (``ConnectionRevoked``):
    revocation is final, whatever was in flight when it happened. Runs in the caller's
    transaction (the run's settle), which the refusal leaves usable: no savepoint needed."""
    if session.connection_id is not None:
        session.connection = _locked_unrevoked(session.connection_id)
    connection = session.connection or Connection(
        partner=session.partner,
        end_user_id=session.end_user_id,
        end_user_email=session.end_user_email,
        end_user_organization=session.end_user_organization,
        origin_session=session,  # unique: a session never makes a second connection
        mode=session.mode,
    )
    created = connection._state.adding
    connection.system_id = attempt.system_slug
    connection.method = attempt.method
    connection.config = attempt.config
    credentials = attempt_credentials(attempt)
    connection.credentials = crypto.seal(
        credentials, aad=crypto.associated_data(connection, "credentials")
    )
    connection.credentials_expire_at = token_expiry(credentials)
    _mark_valid(connection)
    connection.save()
    if not created:  # new credentials: no kept session or cached token may serve the old
        transaction.on_commit(partial(session_forget, connection.id))
        token_cache.forget_connection(connection.id)
    kind = EventKind.CONNECTION_CREATED if created else EventKind.CONNECTION_RECONNECTED
    event_record(
        partner=session.partner,
        kind=kind,
        actor=f"end_user:{session.end_user_id}",
        connection=connection,
        link_session=session,
        data={"system": attempt.system_slug, "method": attempt.method},
        connection_is_new=created,
    )
    return connection


class ConnectionRevoked(OnrampError):
    def __init__(self) -> None:
        super().__init__("connection_revoked", "This connection has been revoked.", 409)


def _locked_unrevoked(connection_id: str) -> Connection:
    """The connection's row, locked until the transaction ends; a revoked one is refused."""
    connection = Connection.objects.select_for_update(of=("self",)).get(pk=connection_id)
    if connection.status == ConnectionStatus.REVOKED:
        raise ConnectionRevoked
    return connection


def _mark_valid(connection: Connection) -> None:
    now = timezone.now()
    connection.status = ConnectionStatus.ACTIVE
    connection.last_validated_at = connection.last_checked_at = now
    connection.next_check_at = next_check_at(now)
    connection.consecutive_failures = 0
    connection.last_error_code = ""
    connection.last_error_message = ""


def next_check_at(after: datetime) -> datetime:
    """When to check a connection next: the interval, spread by ±10% so checks of
    connections made together never all run at once."""
    interval = settings.ONRAMP_HEALTHCHECK_INTERVAL
    return after + timedelta(seconds=interval * random.uniform(0.9, 1.1))  # noqa: S311


@transaction.atomic
def connection_record_check(
    *, connection_id: str, outcome: Outcome | None, by_system: bool = False
) -> None:
    """Apply a revalidation's result (a passed check is ``None``).

    Sign-in and permission failures make the connection invalid at once when a person asked
    for the check; in a check ``by_system`` only when the one before was refused too (the
    next check comes ``ONRAMP_CREDENTIAL_RECHECK_DELAY`` later: a remote's passing hiccup
    must not cost a healthy connection). Address and network failures count only once they
    persist across ``ONRAMP_HEALTHCHECK_TOLERANCE`` checks in a row; our own errors never
    change it. Each change of status is an event.
    """
    connection = Connection.objects.select_for_update(of=("self",)).get(pk=connection_id)
    if connection.status == ConnectionStatus.REVOKED:
        return
    previous = connection.status
    if outcome is None:
        _mark_valid(connection)
    else:
        _record_failure(connection, outcome, by_system=by_system)
    connection.save()
    if connection.status != previous:
        token_cache.forget_connection(connection.id)
        _status_event(connection, outcome)


def _record_failure(connection: Connection, outcome: Outcome, *, by_system: bool) -> None:
    connection.last_checked_at = timezone.now()
    connection.next_check_at = next_check_at(connection.last_checked_at)
    if outcome.blame is Blame.OURS:
        return
    refused_before = _refused(connection.last_error_code) and connection.consecutive_failures
    connection.last_error_code, connection.last_error_message = outcome.code, outcome.message[:500]
    connection.consecutive_failures += 1
    tolerated = connection.consecutive_failures < settings.ONRAMP_HEALTHCHECK_TOLERANCE
    if outcome.blame is Blame.CREDENTIALS and by_system and not refused_before:
        delay = timedelta(seconds=settings.ONRAMP_CREDENTIAL_RECHECK_DELAY)
        connection.next_check_at = connection.last_checked_at + delay  # once more, then decide
    elif outcome.blame is Blame.CREDENTIALS or not tolerated:
        connection.status = ConnectionStatus.INVALID


def _refused(code: str) -> bool:
    return code in FAILURES and FAILURES[code].blame is Blame.CREDENTIALS


def _status_event(connection: Connection, outcome: Outcome | None) -> None:
    if connection.status == ConnectionStatus.ACTIVE:
        kind, data = EventKind.CONNECTION_RESTORED, {}
    else:
        kind = EventKind.CONNECTION_INVALID
        data = {"error": {"code": outcome.code, "message": outcome.message}} if outcome else {}
    event_record(
        partner=connection.partner, kind=kind, actor="system", connection=connection, data=data
    )


@transaction.atomic
def public_token_exchange(
    *, partner: Partner, public_token: str, actor: str, mode: str = Mode.LIVE
) -> tuple[Connection, str]:
    """Trade a one-time public token for the connection and a new access token."""
    refused = OnrampError(
        "invalid_public_token", "This public token is invalid, expired or already used."
    )
    if not tokens.well_formed(public_token, TokenKind.PUBLIC):
        raise refused
    session = (
        LinkSession.objects.select_for_update(of=("self",))
        .filter(public_token_digest=tokens.digest(public_token), partner=partner, mode=mode)
        .select_related("connection")
        .first()
    )
    if (
        session is None
        or session.public_token_used_at is not None
        or session.public_token_expires_at <= timezone.now()
        or session.connection is None
    ):
        raise refused
    try:  # a revocation that committed first wins: no token for a revoked connection
        connection = _locked_unrevoked(session.connection_id)
    except ConnectionRevoked:
        raise refused from None
    session.public_token_used_at = timezone.now()
    session.public_token_sealed = ""
    session.save(update_fields=["public_token_used_at", "public_token_sealed"])
    return connection, connection_token_mint(connection=connection, actor=actor)


def connection_token_mint(*, connection: Connection, actor: str) -> str:
    minted = tokens.mint(TokenKind.CONNECTION)
    token = ConnectionToken.objects.create(
        connection=connection, digest=minted.digest, display=minted.display
    )
    event_record(
        partner=connection.partner,
        kind=EventKind.CONNECTION_TOKEN_CREATED,
        actor=actor,
        connection=connection,
        data={"token": token.id, "display": token.display},
    )
    return minted.value


def connection_for_token(access_token: str, *, active_only: bool = True) -> Connection | None:
    """The connection an access token opens (active ones only, unless told), or None.

    Read from the token cache when it holds a current entry, else from the database (and
    cached). Either way a revoked or rotated token, or a changed connection, is seen at once.
    """
    if not tokens.well_formed(access_token, TokenKind.CONNECTION):
        return None
    digest = tokens.digest(access_token)
    entry, generation = token_cache.cached_token(digest)
    if entry is None:
        token = (
            ConnectionToken.objects.select_related("connection")
            .filter(digest=digest, revoked_at=None)
            .first()
        )
        if token is None or not tokens.digests_match(access_token, token.digest):
            return None
        token_cache.remember_token(digest, token, generation)
        entry = {"token_id": token.id, "token_last_used_at": token.last_used_at}
        connection = token.connection
    else:
        connection = token_cache.connection_from(entry)
    if active_only and connection.status != ConnectionStatus.ACTIVE:
        return None
    _note_use(entry["token_id"], entry["token_last_used_at"])
    return connection


def _note_use(token_id: str, last_used_at: datetime | None) -> None:
    """``last_used_at``, to the minute: one write a minute per token at most."""
    now = timezone.now()
    if last_used_at is not None and now - last_used_at <= LAST_USED_GRANULARITY:
        return
    if cache.add(f"onramp:ct-used:{token_id}", 1, timeout=LAST_USED_GRANULARITY.seconds):
        ConnectionToken.objects.filter(pk=token_id).update(last_used_at=now)


@transaction.atomic
def connection_revoke(*, connection: Connection, actor: str) -> None:
    """Revoke a connection: its tokens stop working at once and its secrets are erased.

    The row is locked and read afresh: a reconnect or a token refresh that committed just
    before is what gets revoked (its new grant included), and nothing after can undo it."""
    try:
        _locked_unrevoked(connection.pk)
    except ConnectionRevoked:
        return
    connection.refresh_from_db()  # as locked: what a refresh or reconnect just committed
    now = timezone.now()
    if SCHEMES[_method(connection).scheme].refreshes and connection.credentials:
        oauth_revoke_later(connection, connection_credentials(connection))
    connection.tokens.filter(revoked_at=None).update(revoked_at=now)
    connection.status = ConnectionStatus.REVOKED
    connection.revoked_at = now
    connection.credentials = ""
    connection.next_check_at = None  # never checked again
    fields = ["status", "revoked_at", "credentials", "next_check_at", "updated_at"]
    connection.save(update_fields=fields)
    # Its synced records go with it (a running sync sees the revocation at its next page,
    # under this same lock, and writes nothing more).
    SyncedRecord.objects.filter(connection=connection).delete()
    SyncState.objects.filter(connection=connection).delete()
    transaction.on_commit(partial(session_forget, connection.id))
    token_cache.forget_connection(connection.id)
    event_record(
        partner=connection.partner,
        kind=EventKind.CONNECTION_REVOKED,
        actor=actor,
        connection=connection,
    )


@transaction.atomic
def connection_rotate_token(*, connection: Connection, actor: str) -> str:
    """Replace every access token of a connection with a new one."""
    if connection.status == ConnectionStatus.REVOKED:
        raise OnrampError("connection_revoked", "This connection has been revoked.", 409)
    token_cache.forget_connection(connection.id)  # before the new token exists: no matter
    revoked = connection.tokens.filter(revoked_at=None).update(revoked_at=timezone.now())
    event_record(
        partner=connection.partner,
        kind=EventKind.CONNECTION_TOKEN_ROTATED,
        actor=actor,
        connection=connection,
        data={"revoked": revoked},
    )
    return connection_token_mint(connection=connection, actor=actor)
