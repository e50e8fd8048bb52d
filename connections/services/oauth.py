"""OAuth sign-in: partners' apps, the authorization round trip, and the tokens it yields.

A sign-in begins on the details screen (``sign_in_begin``: a ``SignIn`` row with the state's
digest, the PKCE verifier and the consent page's URL, all sealed; the browser gets a
single-use start URL). The start URL (``sign_in_open``) binds the sign-in to the browser that
opens it, with a first-party cookie, and sends it to the provider; the callback
(``sign_in_finish``) refuses a state that comes back in a browser without that cookie, so a
consent URL forwarded to someone else cannot attach their grant to this link session. It then
trades the code for tokens and finds the tenant; the flow's sign-in step starts a normal
validation attempt with the tokens as credentials. Stored
tokens are refreshed under a row lock, so two refreshes never spend the same rotating refresh
token; one that is refused for good raises ``RefreshRefused`` (the caller records it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from catalog.registry import get_definition
from catalog.schema import MethodSpec, SystemDefinition
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import (
    Connection,
    ConnectionStatus,
    LinkSession,
    OAuthApp,
    Partner,
    RemoteRevocation,
    SignIn,
    SignInOutcome,
    ValidationAttempt,
)
from connections.outbound.client import OutboundResponse, request
from connections.outbound.errors import OutboundError
from connections.schemes import oauth2_code
from connections.schemes.base import app_headers, basic_header, remote_detail, uses_app
from connections.security import crypto, token_cache, tokens
from connections.security.ratelimit import Limit, enforce
from connections.services.audit import event_record
from connections.services.credentials import connection_credentials, token_expiry

logger = logging.getLogger(__name__)
SIGN_IN_LIFETIME = timedelta(minutes=10)
START_WINDOW = timedelta(minutes=2)  # from the click to the start URL being opened
REFRESH_AHEAD = timedelta(minutes=5)


def redirect_uri() -> str:
    """The one callback URL partners register in their OAuth apps."""
    return f"{settings.ONRAMP_PUBLIC_URL}/oauth/callback/"


# --- partners' apps ------------------------------------------------------------------------


@transaction.atomic
@sensitive_variables()  # the client secret (http/error_reports.py)
def oauth_app_set(
    *, partner: Partner, system: str, client_id: str, client_secret: str, actor: str
) -> OAuthApp:
    """Register (or replace) the partner's app for a system: the OAuth client its customers
    sign in to, or the app key its calls carry (``app_headers``: client id and secret are
    the app's id and key)."""
    if not takes_app(system):
        raise OnrampError("no_sign_in", f"{system!r} has no method that uses your app.", 404)
    app = OAuthApp.objects.filter(partner=partner, system=system).first()
    app = app or OAuthApp(partner=partner, system=system)
    app.client_id = client_id
    app.client_secret = crypto.encrypt(
        client_secret.encode(), aad=crypto.associated_data(app, "client_secret")
    )
    app.save()
    event_record(
        partner=partner,
        kind=EventKind.OAUTH_APP_SET,
        actor=actor,
        data={"system": system, "client_id": client_id[:40]},
    )
    return app


def oauth_app_for(partner_id: str, system: str) -> OAuthApp | None:
    return OAuthApp.objects.filter(partner_id=partner_id, system=system).first()


def takes_app(system: str) -> bool:
    """Whether a partner may register its app for ``system``: a method signs in to it
    (``oauth2_code``) or sends its app key (``app_headers``)."""
    definition = get_definition(system)
    methods = definition.methods if definition else ()
    return any(m.scheme == "oauth2_code" or uses_app(m) for m in methods)


@sensitive_variables()  # the app's secret
def app_headers_for(partner_id: str, system: str, method: MethodSpec) -> dict[str, str] | None:
    """The method's ``app_headers`` filled from this partner's app for the system (one
    query, one decryption); ``{}`` when the method has none, ``None`` when the partner has
    no app registered. Never logged."""
    if not uses_app(method):
        return {}
    app = oauth_app_for(partner_id, system)
    if app is None:
        return None
    return app_headers(method, app.client_id, _client_secret(app))


def _client_secret(app: OAuthApp) -> str:
    aad = crypto.associated_data(app, "client_secret")
    return crypto.decrypt(app.client_secret, aad=aad).decode()


# --- the round trip ----------------------------------------------------------------------


@transaction.atomic
def sign_in_begin(
    *,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    config: dict[str, str],
    return_url: str,
    in_popup: bool,
) -> str:
    """Bind a new state and PKCE verifier to the session; return the consent page's URL."""
    app = oauth_app_for(session.partner_id, definition.slug)
    if app is None:
        raise OnrampError(
            "no_oauth_app",
            _("%(partner)s has not finished setting up %(system)s yet. Please contact them.")
            % {"partner": session.partner.shown_name, "system": definition.name},
            409,
        )
    limit = Limit(f"onramp:sign-in:{session.pk}", settings.ONRAMP_SIGN_INS_PER_SESSION_MINUTE, 60)
    enforce((limit, _("You just started a sign-in. Wait a moment and try again.")))
    _supersede(session, method.id)
    state, verifier = generate_token(43), generate_token(64)
    start = tokens.mint(tokens.TokenKind.SIGN_IN_START)
    sign_in = SignIn(
        link_session=session,
        system_slug=definition.slug,
        method=method.id,
        state_digest=tokens.digest(state),
        binding_digest=start.digest,
        config=config,
        in_popup=in_popup,
    )
    sign_in.code_verifier = _seal(sign_in, "code_verifier", verifier)
    sign_in.return_url = _seal(sign_in, "return_url", return_url)
    consent_url = _authorize_url(method, config, app, state, verifier)
    sign_in.authorize_url = _seal(sign_in, "authorize_url", consent_url)
    sign_in.save()
    return f"{settings.ONRAMP_PUBLIC_URL}/oauth/start/{sign_in.pk}/{start.value}/"


def _supersede(session: LinkSession, method_id: str) -> None:
    """One sign-in at a time per method: an earlier window's state stops working."""
    session.sign_ins.filter(method=method_id, outcome=SignInOutcome.WAITING).update(
        outcome=SignInOutcome.CLOSED, finished_at=timezone.now()
    )


@dataclass(frozen=True)
class SignInOpened:
    """A start URL opened in a browser: where to send it, and the secret it now holds."""

    consent_url: str
    browser_secret: str


def browser_cookie(sign_in_id: str) -> str:
    """The name of the cookie that binds a sign-in to the browser that opened it."""
    return f"onramp_sign_in_{sign_in_id}"


@transaction.atomic
def sign_in_open(*, sign_in_id: str, start_token: str) -> SignInOpened | None:
    """The first browser to open a sign-in's start URL (within ``START_WINDOW``) is the one
    the callback will accept; None for an unknown, used or stale start URL."""
    sign_in = (
        SignIn.objects.select_for_update()
        .filter(pk=sign_in_id, outcome=SignInOutcome.WAITING, bound_at__isnull=True)
        .first()
    )
    if sign_in is None or not tokens.digests_match(start_token, sign_in.binding_digest):
        return None
    if timezone.now() - sign_in.created_at > START_WINDOW:
        return None
    secret = tokens.mint(tokens.TokenKind.SIGN_IN_BROWSER)
    opened = SignInOpened(_unseal(sign_in, "authorize_url"), secret.value)
    sign_in.browser_digest, sign_in.bound_at = secret.digest, timezone.now()
    sign_in.authorize_url = ""  # it held the state: no longer needed once a browser has it
    sign_in.save(update_fields=["browser_digest", "bound_at", "authorize_url"])
    return opened


def _authorize_url(
    method: MethodSpec, config: dict[str, str], app: OAuthApp, state: str, verifier: str
) -> str:
    options = method.options
    values = {**config, "public_url": settings.ONRAMP_PUBLIC_URL}
    return prepare_grant_uri(
        options["authorize_url"].format_map(values),
        app.client_id,
        "code",
        redirect_uri=redirect_uri(),
        scope=options["scope"],
        state=state,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        **options.get("authorize_params", {}),
    )


def sign_in_latest(session: LinkSession, method_id: str) -> SignIn | None:
    return session.sign_ins.filter(method=method_id).order_by("-created_at").first()


def sign_in_expire_stale(sign_in: SignIn) -> SignIn:
    """A sign-in still waiting past its lifetime has expired: its state no longer works."""
    if sign_in.outcome == SignInOutcome.WAITING and _stale(sign_in):
        SignIn.objects.filter(pk=sign_in.pk, outcome=SignInOutcome.WAITING).update(
            outcome=SignInOutcome.EXPIRED, finished_at=timezone.now()
        )
        sign_in.refresh_from_db()
    return sign_in


def _stale(sign_in: SignIn) -> bool:
    return timezone.now() - sign_in.created_at > SIGN_IN_LIFETIME


@dataclass
class SignInResult:
    """How a sign-in ended; on success, the tokens and details for its validation attempt."""

    sign_in: SignIn
    credentials: dict[str, str] | None = None
    config: dict[str, str] = field(default_factory=dict)


def sign_in_finish(
    *, state: str, params: dict[str, str], cookies: Mapping[str, str]
) -> SignInResult | None:
    """The provider sent the user back: check it is the browser that opened the sign-in
    (``cookies``), trade the code and find the tenant.

    Returns how it ended (with the tokens when it worked), or None when the state is unknown.
    """
    sign_in = _claim(state, cookies)
    if sign_in is None:
        return None
    if sign_in.outcome == SignInOutcome.OTHER_BROWSER:
        return SignInResult(sign_in)
    if _stale(sign_in):
        return SignInResult(sign_in_end(sign_in, SignInOutcome.EXPIRED))
    if params.get("error"):
        denied = params["error"] == "access_denied"
        detail = " ".join(params.get("error_description", params["error"]).split())[:300]
        outcome = SignInOutcome.DENIED if denied else SignInOutcome.FAILED
        return SignInResult(sign_in_end(sign_in, outcome, detail))
    try:
        return _granted(sign_in, params)
    except _SignInFailed as failed:
        return SignInResult(sign_in_end(sign_in, failed.outcome, failed.detail))


def sign_in_attach(sign_in: SignIn, attempt: ValidationAttempt) -> SignIn:
    """The validation attempt that checks what this sign-in granted."""
    SignIn.objects.filter(pk=sign_in.pk).update(attempt=attempt)
    sign_in.attempt = attempt
    return sign_in


class _SignInFailed(Exception):
    def __init__(self, outcome: str, detail: str = "", code: str = "") -> None:
        super().__init__(outcome)
        self.outcome, self.detail, self.code = outcome, detail, code


def _claim(state: str, cookies: Mapping[str, str]) -> SignIn | None:
    """A state works once, in the browser that opened the sign-in: the first callback from
    it claims the state; one from any other browser ends the sign-in unused."""
    found = SignIn.objects.select_related("link_session__partner")
    sign_in = found.filter(state_digest=tokens.digest(state)).first()
    if sign_in is None:
        return None
    waiting = SignIn.objects.filter(pk=sign_in.pk, outcome=SignInOutcome.WAITING)
    secret = cookies.get(browser_cookie(sign_in.pk), "")
    if not (sign_in.browser_digest and tokens.digests_match(secret, sign_in.browser_digest)):
        waiting.update(outcome=SignInOutcome.OTHER_BROWSER, finished_at=timezone.now())
        sign_in.outcome = SignInOutcome.OTHER_BROWSER
        return sign_in
    if waiting.update(outcome=SignInOutcome.CHECKING, finished_at=timezone.now()):
        sign_in.outcome = SignInOutcome.CHECKING
    else:
        sign_in.outcome_detail = "used"  # a second callback, or a later sign-in replaced it
    return sign_in


def sign_in_end(sign_in: SignIn, outcome: str, detail: str = "") -> SignIn:
    SignIn.objects.filter(pk=sign_in.pk).update(outcome=outcome, outcome_detail=detail[:300])
    sign_in.outcome, sign_in.outcome_detail = outcome, detail[:300]
    return sign_in


def _granted(sign_in: SignIn, params: dict[str, str]) -> SignInResult:
    if sign_in.outcome_detail == "used":
        raise _SignInFailed(SignInOutcome.EXPIRED)
    definition = get_definition(sign_in.system_slug)
    method = definition.method(sign_in.method)
    app = oauth_app_for(sign_in.link_session.partner_id, definition.slug)
    config = {**sign_in.config, **_from_callback(method, params)}
    response = _trade_code(method, app, params.get("code", ""), sign_in, config)
    credentials = _credentials(response)
    try:
        config |= oauth2_code.answer_config(method, response.json())
    except (ValueError, oauth2_code.AnswerRefused) as refused:
        raise _SignInFailed(SignInOutcome.FAILED, str(refused)[:300]) from None
    if method.options.get("client_id_header"):
        config["oauth_client_id"] = app.client_id  # its API wants the app named on each call
    if oauth2_code.uses_contact(method):
        config[oauth2_code.CONTACT] = settings.ONRAMP_CONTACT_EMAIL  # Fakturoid's User-Agent
    config |= _tenant(method, credentials["access_token"])
    return SignInResult(sign_in, credentials, config)


def _trade_code(
    method: MethodSpec, app: OAuthApp | None, code: str, sign_in: SignIn, config: dict[str, str]
) -> OutboundResponse:
    if app is None or not code:
        raise _SignInFailed(SignInOutcome.FAILED, "no code")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(),
        "code_verifier": _unseal(sign_in, "code_verifier"),
    }
    response = _token_request(method, app, form, config)
    if response.status != 200:
        raise _SignInFailed(SignInOutcome.FAILED, _oauth_error(response))
    return response


def _token_request(
    method: MethodSpec, app: OAuthApp, form: dict[str, str], config: Mapping[str, str]
) -> OutboundResponse:
    headers = {"Accept": "application/json"}
    headers |= oauth2_code.token_headers(method, config, settings.ONRAMP_CONTACT_EMAIL)
    if method.options.get("client_auth", "basic") == "basic":
        headers["Authorization"] = basic_header(app.client_id, _client_secret(app))
    else:
        form = {**form, "client_id": app.client_id, "client_secret": _client_secret(app)}
    url = oauth2_code.token_url(method, config)
    body = {"json": form} if method.options.get("token_format") == "json" else {"data": form}
    try:
        return request("POST", url, headers=headers, **body)
    except OutboundError as exc:
        raise _SignInFailed(SignInOutcome.FAILED, exc.message, exc.code) from None


def _credentials(response: OutboundResponse) -> dict[str, str]:
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise _SignInFailed(SignInOutcome.FAILED, "no access token in the answer")
    expires_in = str(body.get("expires_in", "3600"))
    lifetime = int(expires_in) if expires_in.isdigit() else 3600
    return {
        "access_token": token,
        "refresh_token": str(body.get("refresh_token") or ""),
        "expires_at": str(int(time.time()) + lifetime),
    }


def _oauth_error(response: OutboundResponse) -> str:
    try:
        error = response.json().get("error", "")
    except (ValueError, AttributeError):
        error = ""
    return str(error or remote_detail(response) or response.status)[:300]


def _from_callback(method: MethodSpec, params: dict[str, str]) -> dict[str, str]:
    return {
        name: params[name][:200]
        for name in method.options.get("callback_params", [])
        if name in params
    }


def _tenant(method: MethodSpec, access_token: str) -> dict[str, str]:
    """The tenant the user consented to, where the provider lists them (Xero)."""
    url = method.options.get("tenants_url")
    if not url:
        return {}
    try:
        response = request("GET", url, headers={"Authorization": f"Bearer {access_token}"})
        tenants = response.json() if response.status == 200 else None
    except (OutboundError, ValueError):
        tenants = None
    if not isinstance(tenants, list):
        raise _SignInFailed(SignInOutcome.FAILED, "could not list the organisations")
    if not tenants or not isinstance(tenants[0], dict):
        raise _SignInFailed(SignInOutcome.NO_TENANT)
    first = tenants[0]
    id_key = method.options.get("tenant_id_key", "tenantId")
    name_key = method.options.get("tenant_name_key", "tenantName")
    return {
        "tenant_id": str(first.get(id_key, ""))[:200],
        "tenant_name": str(first.get(name_key, ""))[:200],
    }


def _seal(sign_in: SignIn, field: str, value: str) -> str:
    return crypto.encrypt(value.encode(), aad=crypto.associated_data(sign_in, field))


def sign_in_return_url(sign_in: SignIn) -> str:
    return _unseal(sign_in, "return_url")


def _unseal(sign_in: SignIn, field: str) -> str:
    aad = crypto.associated_data(sign_in, field)
    return crypto.decrypt(getattr(sign_in, field), aad=aad).decode()


# --- stored tokens ------------------------------------------------------------------------


class RefreshRefused(Exception):
    """The provider refused the refresh token for good. ``interrupted``: an earlier refresh
    ended without Onramp learning its answer, so the token may have been spent by it."""

    def __init__(self, connection_id: str, *, interrupted: bool = False) -> None:
        super().__init__(connection_id)
        self.interrupted = interrupted


@dataclass(frozen=True)
class _RefreshClaim:
    credentials: dict[str, str]
    interrupted: bool


def oauth_credentials_fresh(connection: Connection) -> dict[str, str]:
    """The connection's tokens, refreshed first if the access token is about to expire.

    One refresh at a time per connection: a claim (a lease on the row, committed before the
    provider is called) makes the others wait for its tokens, so a rotating refresh token is
    spent once, and the new tokens are committed the moment they arrive. A claim whose holder
    died marks the next refresh ``interrupted``. Raises ``RefreshRefused`` when the provider
    refuses the refresh for good, ``OutboundError`` when it cannot be reached.
    """
    claim = _refresh_claim(connection.pk)
    if isinstance(claim, dict):
        return claim
    try:
        refreshed = _refresh(connection, claim.credentials)
    except OutboundError as exc:
        _refresh_release(connection.pk, interrupted=claim.interrupted or exc.code == "timeout")
        raise
    except BaseException:
        _refresh_release(connection.pk, interrupted=True)
        raise
    if refreshed is None:
        _refresh_release(connection.pk, interrupted=False)
        raise RefreshRefused(connection.pk, interrupted=claim.interrupted)
    if not _store_tokens(connection.pk, refreshed):
        raise RefreshRefused(connection.pk)  # revoked meanwhile: the new grant is revoked too
    return refreshed


def _refresh_claim(connection_id: str) -> dict[str, str] | _RefreshClaim:
    """Fresh credentials (nothing to do, or another process just refreshed them), or this
    process's claim to refresh them, waiting up to a lease for another claim to end."""
    lease = timedelta(seconds=settings.ONRAMP_OUTBOUND_DEADLINE + 5)
    give_up = time.monotonic() + lease.total_seconds()
    while True:
        with transaction.atomic(durable=True):  # the claim is seen by others at once
            row = Connection.objects.select_for_update(of=("self",)).get(pk=connection_id)
            credentials = connection_credentials(row)
            if not _expiring(credentials):
                return credentials
            now = timezone.now()
            held = row.refresh_claimed_until is not None and row.refresh_claimed_until > now
            if not held or time.monotonic() > give_up:
                return _claim_refresh(row, credentials, now + lease)
        time.sleep(0.2)  # another process is refreshing: its tokens will be committed


def _claim_refresh(row: Connection, credentials: dict[str, str], until: Any) -> _RefreshClaim:
    # A claim still on the row means its holder died (or gave up) without an answer.
    interrupted = row.refresh_interrupted or row.refresh_claimed_until is not None
    if interrupted and not row.refresh_interrupted:
        logger.warning("an earlier token refresh of %s was interrupted", row.pk)
        event_record(
            partner=row.partner,
            kind=EventKind.CONNECTION_REFRESH_INTERRUPTED,
            actor="system",
            connection=row,
        )
    row.refresh_claimed_until, row.refresh_interrupted = until, interrupted
    row.save(update_fields=["refresh_claimed_until", "refresh_interrupted"])
    return _RefreshClaim(credentials, interrupted)


def _refresh_release(connection_id: str, *, interrupted: bool) -> None:
    Connection.objects.filter(pk=connection_id).update(
        refresh_claimed_until=None, refresh_interrupted=interrupted
    )


def _expiring(credentials: dict[str, str]) -> bool:
    expires = credentials.get("expires_at", "")
    return expires.isdigit() and int(expires) - time.time() < REFRESH_AHEAD.total_seconds()


def _refresh(connection: Connection, credentials: dict[str, str]) -> dict[str, str] | None:
    """New tokens, or None when the provider refused the refresh token for good. Network
    trouble raises ``OutboundError`` (try again later)."""
    method = get_definition(connection.system_id).method(connection.method)
    app = oauth_app_for(connection.partner_id, connection.system_id)
    if app is None or not credentials.get("refresh_token"):
        return None
    form = {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]}
    try:
        response = _token_request(method, app, form, connection.config)
    except _SignInFailed as failed:
        raise OutboundError(failed.code or "connection_failed", failed.detail) from None
    if response.status in (400, 401):
        logger.warning("refresh refused for %s: %s", connection.pk, _oauth_error(response))
        return None
    if response.status != 200:
        raise OutboundError("server_error", f"token endpoint answered {response.status}")
    fresh = _credentials(response)
    fresh["refresh_token"] = fresh["refresh_token"] or credentials["refresh_token"]
    return fresh


@transaction.atomic(durable=True)
def _store_tokens(connection_id: str, credentials: dict[str, str]) -> bool:
    """Commit new tokens at once (the provider may have retired the old refresh token): never
    inside a caller's transaction, which could still roll them back. A connection revoked
    while the refresh was in flight keeps nothing: the grant it got is revoked at the
    provider too (the revoke could only see the refresh token this refresh spent)."""
    connection = Connection.objects.select_for_update(of=("self",)).get(pk=connection_id)
    if connection.status == ConnectionStatus.REVOKED:
        oauth_revoke_later(connection, credentials)
        return False
    connection.credentials = crypto.seal(
        credentials, aad=crypto.associated_data(connection, "credentials")
    )
    connection.credentials_expire_at = token_expiry(credentials)
    connection.refresh_claimed_until, connection.refresh_interrupted = None, False
    connection.save(
        update_fields=[
            "credentials",
            "credentials_expire_at",
            "refresh_claimed_until",
            "refresh_interrupted",
            "updated_at",
        ]
    )
    token_cache.forget_connection(connection.pk)  # cached copies hold the old tokens
    return True


# --- revoking at the provider -----------------------------------------------------------------


def oauth_revoke_later(connection: Connection, credentials: dict[str, str]) -> None:
    """Within a revocation: remember the refresh token (encrypted) to revoke at the provider
    once the revocation commits (an outbox row, so a crash cannot lose it)."""
    method = get_definition(connection.system_id).method(connection.method)
    token = credentials.get("refresh_token") or credentials.get("access_token")
    if not method.options.get("revoke_url") or not token:
        return
    pending = RemoteRevocation(connection=connection)
    pending.token = crypto.encrypt(token.encode(), aad=f"remote-revocation:{connection.pk}")
    pending.save()
    transaction.on_commit(remote_revocations_send)


def remote_revocations_send() -> int:
    """Tell providers about revoked grants (after a revocation, and hourly from beat)."""
    done = 0
    for pending in RemoteRevocation.objects.select_related("connection")[:200]:
        if _revoke_at_provider(pending):
            pending.delete()
            done += 1
        elif pending.tries >= 5:
            logger.warning("giving up revoking the grant of %s", pending.connection_id)
            pending.delete()
        else:
            RemoteRevocation.objects.filter(pk=pending.pk).update(tries=F("tries") + 1)
    return done


def _revoke_at_provider(pending: RemoteRevocation) -> bool:
    connection = pending.connection
    method = get_definition(connection.system_id).method(connection.method)
    app = oauth_app_for(connection.partner_id, connection.system_id)
    if app is None:
        return True  # nothing we could sign the request with
    token = crypto.decrypt(pending.token, aad=f"remote-revocation:{connection.pk}").decode()
    headers = {"Authorization": basic_header(app.client_id, _client_secret(app))}
    body: dict[str, Any] = {"json": {"token": token}}
    if method.options.get("revoke_format", "form") == "form":
        body = {"data": {"token": token, "token_type_hint": "refresh_token"}}
    try:
        url = method.options["revoke_url"].format_map(connection.config)
        response = request("POST", url, headers=headers, **body)
    except OutboundError:
        return False
    return response.status < 500
