"""Link sessions: created by a partner, carried by the end user through the flow."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import System
from catalog.schema import FieldSpec, MethodSpec, SystemDefinition
from connections.branding import branding_checked
from connections.errors import OnrampError
from connections.events import EventKind
from connections.languages import locale_checked
from connections.models import (
    TEST_SYSTEMS,
    Connection,
    ConnectionStatus,
    LinkSession,
    LinkSessionStatus,
    Mode,
    Partner,
)
from connections.security import crypto, tokens
from connections.security.ratelimit import Limit, enforce
from connections.security.tokens import TokenKind
from connections.services.audit import event_record
from connections.services.partners import origin_normalize, redirect_url_check

DEFAULT_EXPIRES_IN = 30 * 60
MIN_EXPIRES_IN = 5 * 60
MAX_EXPIRES_IN = 7 * 24 * 3600
PUBLIC_TOKEN_LIFETIME = timedelta(minutes=30)
MILESTONES = ("opened", "system", "method", "guide", "screen", "exited")


@dataclass(frozen=True)
class LinkSessionSpec:
    """What a partner asks for when creating a link session (already shape-checked)."""

    end_user_id: str
    end_user_email: str = ""
    end_user_organization: str = ""
    systems: list[str] = field(default_factory=list)
    connection_id: str | None = None
    allowed_origin: str = ""
    redirect_url: str = ""
    locale: str = ""  # empty: the browser's language
    expires_in: int = DEFAULT_EXPIRES_IN
    mode: str = Mode.LIVE
    branding: dict[str, str] = field(default_factory=dict)


@transaction.atomic
def link_session_create(
    *, partner: Partner, spec: LinkSessionSpec, actor: str
) -> tuple[LinkSession, str]:
    """Create a session for one end user; return it with its link token (shown once)."""
    minted = tokens.mint(TokenKind.LINK)
    session = LinkSession.objects.create(
        partner=partner,
        token_digest=minted.digest,
        end_user_id=spec.end_user_id,
        end_user_email=spec.end_user_email,
        end_user_organization=spec.end_user_organization,
        systems=_checked_systems(spec.systems, spec.mode),
        connection=_reconnect_target(partner, spec.connection_id, spec.mode),
        mode=spec.mode,
        branding=branding_checked(spec.branding),
        allowed_origin=_pinned_origin(partner, spec.allowed_origin),
        redirect_url=(
            redirect_url_check(partner=partner, url=spec.redirect_url) if spec.redirect_url else ""
        ),
        locale=locale_checked(spec.locale),
        expires_at=timezone.now() + timedelta(seconds=_checked_lifetime(spec.expires_in)),
    )
    event_record(
        partner=partner,
        kind=EventKind.LINK_SESSION_CREATED,
        actor=actor,
        link_session=session,
        data={"end_user_id": spec.end_user_id},
    )
    return session, minted.value


def link_session_url(link_token: str) -> str:
    return f"{settings.ONRAMP_PUBLIC_URL}/connect/{link_token}/"


def _checked_systems(slugs: list[str], mode: str) -> list[str]:
    if mode == Mode.TEST:
        if any(slug not in TEST_SYSTEMS for slug in slugs):
            raise OnrampError(
                "test_mode_system",
                "A test key connects only the Sandbox ERP; use a live key for real systems.",
            )
        slugs = slugs or list(TEST_SYSTEMS)
    unique = list(dict.fromkeys(slugs))
    listed = set(System.objects.listed().filter(slug__in=unique).values_list("slug", flat=True))
    unknown = [slug for slug in unique if slug not in listed]
    if unknown:
        raise OnrampError("unknown_system", f"Unknown or disabled system: {unknown[0]!r}.")
    return unique


def _reconnect_target(partner: Partner, connection_id: str | None, mode: str) -> Connection | None:
    if not connection_id:
        return None
    connection = Connection.objects.filter(pk=connection_id, partner=partner, mode=mode).first()
    if connection is None or connection.status == ConnectionStatus.REVOKED:
        raise OnrampError("unknown_connection", "No such connection to reconnect.", 404)
    return connection


def _pinned_origin(partner: Partner, requested: str) -> str:
    """The one origin allowed to frame this session: asked for, or the partner's only one."""
    if not requested:
        return partner.allowed_origins[0] if len(partner.allowed_origins) == 1 else ""
    origin = origin_normalize(requested)
    if origin not in partner.allowed_origins:
        raise OnrampError(
            "origin_not_allowed", f"{origin} is not one of this partner's allowed origins."
        )
    return origin


def _checked_lifetime(expires_in: int) -> int:
    if not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
        raise OnrampError(
            "invalid_expires_in",
            f"expires_in must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN}.",
        )
    return expires_in


def link_session_for_token(link_token: str) -> LinkSession | None:
    """The session a flow URL's token opens, or None. Malformed tokens cost no query."""
    if not tokens.well_formed(link_token, TokenKind.LINK):
        return None
    session = (
        LinkSession.objects.select_related("partner", "connection")
        .filter(token_digest=tokens.digest(link_token), partner__is_active=True)
        .first()
    )
    if session is None or not tokens.digests_match(link_token, session.token_digest):
        return None
    return session


def link_session_set_locale(*, session: LinkSession, locale: str) -> None:
    """Fix the session's language (the browser's on first open, or the user's choice)."""
    if session.locale != locale:
        LinkSession.objects.filter(pk=session.pk).update(locale=locale)
        session.locale = locale


def milestone_changes(session: LinkSession, milestone: str, value: str = "") -> dict[str, object]:
    """What recording ``milestone`` changes on ``session``: a timestamp the first time only,
    a choice or the screen to resume at when it differs; nothing when nothing is new."""
    now = timezone.now()
    if milestone == "opened" and session.opened_at is None:
        return {"opened_at": now}
    if milestone == "system" and session.system_chosen != value:
        return {"system_chosen": value}
    if milestone == "method" and session.method_chosen != value:
        return {"method_chosen": value}
    if milestone == "guide" and session.guide_viewed_at is None:
        return {"guide_viewed_at": now}
    if milestone == "exited" and session.exited_at is None:
        return {"exited_at": now}
    if milestone == "screen" and session.last_screen != value[:300]:
        return {"last_screen": value[:300]}
    return {}


def link_session_record(*, session: LinkSession, fields: Iterable[str]) -> None:
    """Write the named fields as ``session`` now holds them (what one visit of the flow
    changed: funnel milestones, the screen to resume at, the language) in a single UPDATE;
    nothing when none changed."""
    if names := sorted(set(fields)):
        LinkSession.objects.filter(pk=session.pk).update(**{n: getattr(session, n) for n in names})


def link_session_mark(*, session: LinkSession, milestone: str, value: str = "") -> None:
    """Record one milestone now (the first time only for timestamps). An exit also tells the
    partner, once however many exits."""
    updates = milestone_changes(session, milestone, value)
    if not updates:
        return
    with transaction.atomic():
        rows = LinkSession.objects.filter(pk=session.pk)
        if milestone == "exited":
            rows = rows.filter(exited_at=None)  # the event goes out once, however many exits
        changed = rows.update(**updates)
        if milestone == "exited" and changed and session.validated_at is None:
            event_record(
                partner=session.partner,
                kind=EventKind.LINK_SESSION_EXITED,
                actor=f"end_user:{session.end_user_id}",
                link_session=session,
                data={"screen": value[:40]} if value else {},
            )
    for name, new_value in updates.items():
        setattr(session, name, new_value)


PUBLIC_TOKEN_FIELDS = ("public_token_digest", "public_token_sealed", "public_token_expires_at")


def public_token_issue(session: LinkSession) -> None:
    """Mint the session's one-time public token (30 minutes), when its connection is made.

    The token is kept encrypted (not only hashed) so the done screen and the partner's
    ``GET /link-sessions/{id}`` hand out the same one; it is erased once exchanged.
    """
    public_token_mint(session)
    session.save(update_fields=PUBLIC_TOKEN_FIELDS)


def public_token_mint(session: LinkSession) -> None:
    """As ``public_token_issue``, on ``session`` only: the caller saves ``PUBLIC_TOKEN_FIELDS``
    (with its own changes, in one UPDATE)."""
    minted = tokens.mint(TokenKind.PUBLIC)
    session.public_token_digest = minted.digest
    session.public_token_sealed = crypto.encrypt(
        minted.value.encode(), aad=crypto.associated_data(session, "public_token_sealed")
    )
    session.public_token_expires_at = timezone.now() + PUBLIC_TOKEN_LIFETIME


def public_token_outstanding(session: LinkSession) -> str | None:
    """The session's public token while it can still be exchanged; reading has no effect."""
    expires = session.public_token_expires_at
    if not session.public_token_sealed or not expires or expires <= timezone.now():
        return None
    if session.public_token_used_at is not None:
        return None
    aad = crypto.associated_data(session, "public_token_sealed")
    return crypto.decrypt(session.public_token_sealed, aad=aad).decode()


def link_session_complete(*, session: LinkSession) -> str:
    """The done screen: the session's outstanding public token. A passed check records the
    session's completion and issues its token (``attempts.py``), so the done screen only reads
    them; under the session's lock it issues a new token if the last lapsed while the link
    itself is still valid, and records a completion the check did not."""
    if session.completed_at is not None and (token := public_token_outstanding(session)):
        return token
    return _link_session_complete_locked(session)


@transaction.atomic
def _link_session_complete_locked(session: LinkSession) -> str:
    session = LinkSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if session.connection_id is None or session.validated_at is None:
        raise OnrampError("not_validated", "This connection has not been validated yet.", 409)
    if session.public_token_used_at is not None:
        raise OnrampError("already_exchanged", "This session has already been completed.", 409)
    token = public_token_outstanding(session)
    if token is None:
        if session.is_expired:
            raise OnrampError(LinkSessionStatus.EXPIRED, "This link has expired.", 410)
        public_token_issue(session)
        token = public_token_outstanding(session)
    if session.completed_at is None:
        session.completed_at = timezone.now()
        session.save(update_fields=["completed_at"])
        link_session_completed(session)
    return token


def link_session_completed(session: LinkSession) -> None:
    """The audit event of a session that produced its connection (in the caller's
    transaction, with the change it records)."""
    event_record(
        partner=session.partner,
        kind=EventKind.LINK_SESSION_COMPLETED,
        actor=f"end_user:{session.end_user_id}",
        link_session=session,
        connection=session.connection,
    )


DRAFTS_PER_MINUTE = 60  # a change event per field typed in: plenty, and a bound on writes


def _draft_specs(definition: SystemDefinition, method: MethodSpec) -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in definition.fields + method.fields if not spec.secret}


def link_session_save_draft(
    *,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    values: Mapping[str, str],
) -> None:
    """Store typed, non-secret values (a secret is never kept before its check)."""
    limit = Limit(f"onramp:draft:{session.pk}", DRAFTS_PER_MINUTE, 60)
    enforce((limit, "Too many drafts: wait a moment."))
    specs = _draft_specs(definition, method)
    typed = {
        name: str(values[name])[: spec.max_length]
        for name, spec in specs.items()
        if name in values
    }
    key = f"{definition.slug}:{method.id}"
    with transaction.atomic():
        locked = LinkSession.objects.select_for_update().get(pk=session.pk)
        locked.drafts = {**locked.drafts, key: {**locked.drafts.get(key, {}), **typed}}
        locked.save(update_fields=["drafts"])
    session.drafts = locked.drafts


def draft_values(
    session: LinkSession, definition: SystemDefinition, method: MethodSpec
) -> dict[str, str]:
    specs = _draft_specs(definition, method)
    saved = session.drafts.get(f"{definition.slug}:{method.id}", {})
    return {name: value for name, value in saved.items() if name in specs}


# --- operators (the admin) -------------------------------------------------------------------

OPERATOR_EXTENSION = timedelta(days=1)


@transaction.atomic
def link_session_unlock(*, session: LinkSession, actor: str) -> bool:
    """Let a locked session be tried again (its failures forgiven). False if not locked."""
    changed = LinkSession.objects.filter(pk=session.pk, locked_at__isnull=False).update(
        locked_at=None, failed_attempts=0
    )
    if changed:
        _operator_event(session, EventKind.LINK_SESSION_UNLOCKED, actor)
    return bool(changed)


@transaction.atomic
def link_session_extend(*, session: LinkSession, actor: str) -> bool:
    """One more day on an open session's end. False if it is not open (expired, cancelled,
    completed) or its end changed since ``session`` was read: the UPDATE is conditional on
    the end read here, so a cancel committed meanwhile is never undone (make a new link)."""
    now = timezone.now()
    expires_at = session.expires_at + OPERATOR_EXTENSION
    changed = LinkSession.objects.filter(
        pk=session.pk,
        validated_at__isnull=True,
        expires_at=session.expires_at,  # what a cancel (or another extend) changes
        expires_at__gt=now,
    ).update(expires_at=expires_at)
    if not changed:
        return False
    session.expires_at = expires_at
    event_record(
        partner=session.partner,
        kind=EventKind.LINK_SESSION_EXTENDED,
        actor=actor,
        link_session=session,
        data={"expires_at": expires_at.isoformat()},
    )
    return True


@transaction.atomic
def link_session_cancel(*, session: LinkSession, actor: str) -> bool:
    """End a session that has not produced a connection: its link stops working now."""
    now = timezone.now()
    changed = LinkSession.objects.filter(
        pk=session.pk, validated_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    if changed:
        _operator_event(session, EventKind.LINK_SESSION_CANCELLED, actor)
    return bool(changed)


def _operator_event(session: LinkSession, kind: EventKind, actor: str) -> None:
    event_record(partner=session.partner, kind=kind, actor=actor, link_session=session)
