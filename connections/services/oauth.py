"""OAuth sign-in: partners' apps, the authorization round trip, and the tokens it yields.

A sign-in begins on the details screen (``sign_in_begin``: a ``SignIn`` row with the state's
digest and the PKCE verifier, then the provider's consent page) and ends on Onramp's one
callback (``sign_in_finish``: the code traded for tokens and the tenant found; the flow's
sign-in step then starts a normal validation attempt with the tokens as credentials). Stored
tokens are refreshed under a row lock, so two refreshes never spend the same rotating refresh
token; one that is refused for good raises ``RefreshRefused`` (the caller records it).
"""

from __future__ import annotations

import logging
import time
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
from connections.schemes.base import basic_header, remote_detail
from connections.security import crypto, token_cache, tokens
from connections.security.ratelimit import Limit, enforce
from connections.services.audit import event_record
from connections.services.credentials import connection_credentials, token_expiry

logger = logging.getLogger(__name__)
SIGN_IN_LIFETIME = timedelta(minutes=10)
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
    """Register (or replace) the partner's OAuth client for a system that signs in."""
    definition = get_definition(system)
    if definition is None or not any(m.scheme == "oauth2_code" for m in definition.methods):
        raise OnrampError("no_sign_in", f"{system!r} has no sign-in method to configure.", 404)
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
    state, verifier = generate_token(43), generate_token(64)
    sign_in = SignIn(
        link_session=session,
        system_slug=definition.slug,
        method=method.id,
        state_digest=tokens.digest(state),
        config=config,
        in_popup=in_popup,
    )
    sign_in.code_verifier = _seal(sign_in, "code_verifier", verifier)
    sign_in.return_url = _seal(sign_in, "return_url", return_url)
    sign_in.save()
    return _authorize_url(method, config, app, state, verifier)


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


def sign_in_mark_closed(sign_in: SignIn) -> None:
    """The user closed the sign-in window before finishing: the state may no longer be used."""
    SignIn.objects.filter(pk=sign_in.pk, outcome=SignInOutcome.WAITING).update(
        outcome=SignInOutcome.CLOSED, finished_at=timezone.now()
    )
    sign_in.refresh_from_db()


@dataclass
class SignInResult:
    """How a sign-in ended; on success, the tokens and details for its validation attempt."""

    sign_in: SignIn
    credentials: dict[str, str] | None = None
    config: dict[str, str] = field(default_factory=dict)


def sign_in_finish(*, state: str, params: dict[str, str]) -> SignInResult | None:
    """The provider sent the user back: trade the code and find the tenant.

    Returns how it ended (with the tokens when it worked), or None when the state is unknown.
    """
    sign_in = _claim(state)
    if sign_in is None:
        return None
    if timezone.now() - sign_in.created_at > SIGN_IN_LIFETIME:
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
    def __init__(self, outcome: str, detail: str = "") -> None:
        super().__init__(outcome)
        self.outcome, self.detail = outcome, detail


def _claim(state: str) -> SignIn | None:
    """A state works once: the first callback claims it."""
    digest = tokens.digest(state)
    claimed = SignIn.objects.filter(state_digest=digest, outcome=SignInOutcome.WAITING).update(
        outcome=SignInOutcome.CHECKING, finished_at=timezone.now()
    )
    found = SignIn.objects.select_related("link_session__partner").filter(state_digest=digest)
    sign_in = found.first()
    if sign_in is not None and not claimed:
        sign_in.outcome_detail = "used"  # a second callback, or the window was closed
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
    credentials = _trade_code(
        method, app, params.get("code", ""), _unseal(sign_in, "code_verifier")
    )
    config = {**sign_in.config, **_from_callback(method, params)}
    config |= _tenant(method, credentials["access_token"])
    return SignInResult(sign_in, credentials, config)


def _trade_code(method: MethodSpec, app: OAuthApp | None, code: str, verifier: str) -> dict:
    if app is None or not code:
        raise _SignInFailed(SignInOutcome.FAILED, "no code")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(),
        "code_verifier": verifier,
    }
    response = _token_request(method, app, form)
    if response.status != 200:
        raise _SignInFailed(SignInOutcome.FAILED, _oauth_error(response))
    return _credentials(response)


def _token_request(method: MethodSpec, app: OAuthApp, form: dict[str, str]) -> OutboundResponse:
    headers = {"Accept": "application/json"}
    if method.options.get("client_auth", "basic") == "basic":
        headers["Authorization"] = basic_header(app.client_id, _client_secret(app))
    else:
        form = {**form, "client_id": app.client_id, "client_secret": _client_secret(app)}
    try:
        return request("POST", method.options["token_url"], headers=headers, data=form)
    except OutboundError as exc:
        raise _SignInFailed(SignInOutcome.FAILED, exc.message) from None


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
    """The provider refused the refresh token for good (``invalid_grant``)."""


def oauth_credentials_fresh(connection: Connection) -> dict[str, str]:
    """The connection's tokens, refreshed first if the access token is about to expire.

    The row stays locked while a refresh runs, so a rotating refresh token is spent once.
    Raises ``RefreshRefused`` when the provider refuses the refresh for good.
    """
    with transaction.atomic():
        locked = Connection.objects.select_for_update(of=("self",)).get(pk=connection.pk)
        credentials = connection_credentials(locked)
        if not _expiring(credentials):
            return credentials
        refreshed = _refresh(locked, credentials)
        if refreshed is not None:
            _store_tokens(locked, refreshed)
            return refreshed
    raise RefreshRefused(connection.pk)


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
        response = _token_request(method, app, form)
    except _SignInFailed as failed:
        raise OutboundError("connection_failed", failed.detail) from None
    if response.status in (400, 401):
        logger.warning("refresh refused for %s: %s", connection.pk, _oauth_error(response))
        return None
    if response.status != 200:
        raise OutboundError("server_error", f"token endpoint answered {response.status}")
    fresh = _credentials(response)
    fresh["refresh_token"] = fresh["refresh_token"] or credentials["refresh_token"]
    return fresh


def _store_tokens(connection: Connection, credentials: dict[str, str]) -> None:
    connection.credentials = crypto.seal(
        credentials, aad=crypto.associated_data(connection, "credentials")
    )
    connection.credentials_expire_at = token_expiry(credentials)
    connection.save(update_fields=["credentials", "credentials_expire_at", "updated_at"])
    token_cache.forget_connection(connection.pk)  # cached copies hold the old tokens


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
        response = request("POST", method.options["revoke_url"], headers=headers, **body)
    except OutboundError:
        return False
    return response.status < 500
