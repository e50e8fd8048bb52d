"""An OAuth 2.0 authorization server with a tiny protected API, like Xero, QuickBooks Online or
Microsoft Entra ID: authorization code + PKCE, rotating refresh tokens, revocation.

It checks what those servers check, independently of Onramp's client code: PKCE S256 is
required (RFC 7636; ``plain`` and a missing challenge are refused), the redirect URI must equal
a registered one character for character, codes are single-use, short-lived and bound to the
client, redirect URI and challenge (a second redemption revokes what the first one issued, RFC
6749 §10.5), clients authenticate with HTTP Basic or form fields but never both (§2.3.1),
refresh tokens rotate and a rotated-out one is refused, revocation follows RFC 7009.

The browser part is driven separately: ``approve(query)`` / ``deny(query)`` validate an
authorize request and return the URL the browser would be sent back to. ``GET /authorize`` also
serves a real HTML consent page whose "Allow" / "Deny" links lead to ``/authorize/decision``,
which answers a 302 to that URL, so Playwright can click through. ``base.py`` always sends
``Content-Type: application/json`` and JSON-encodes the body, so — without touching it — this
module swaps in a subclass of the server's request handler that writes :class:`Page` replies
as ``text/html`` (a single Content-Type header); every other reply goes through ``base.py``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit, urlunsplit

from tests.fakes.base import FakeSystem, Reply, Request

AUTHORIZE_PATH = "/authorize"
DECISION_PATH = "/authorize/decision"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
ME_PATH = "/api/me"
CONNECTIONS_PATH = "/connections"
FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
DECISION_KEYS = ("decision", "user", "tenant")


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` pair, for tests."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


# --- errors ---------------------------------------------------------------------------------


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer: ``{"error", "error_description"}``."""

    def __init__(
        self, status: int, error: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.status, self.error, self.description = status, error, description
        self.headers = {**NO_STORE, **(headers or {})}

    @property
    def reply(self) -> Reply:
        body = {"error": self.error, "error_description": self.description}
        return Reply(self.status, body, self.headers)


class AuthorizeRefused(Exception):
    """An authorize request the server refuses. ``redirect_url`` is where a real server sends
    the browser (``error=...&state=...``), or None when it must not redirect because the
    client or redirect URI is unknown (RFC 6749 §4.1.2.1): it shows an error page instead."""

    def __init__(self, error: str, description: str, redirect_url: str | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.redirect_url = error, description, redirect_url


def invalid_grant(description: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", description)


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def invalid_client(description: str, basic: bool = False) -> OAuthError:
    challenge = {"WWW-Authenticate": 'Basic realm="oauth"'} if basic else {}
    return OAuthError(401, "invalid_client", description, challenge)


# --- request helpers, shared with the ION fake ------------------------------------------------


def read_form(request: Request) -> dict[str, str]:
    """The form-encoded body; a parameter sent twice is refused (RFC 6749 §3.2)."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        raise invalid_request(f"Content-Type must be {FORM_TYPE}")
    return single_values(parse_qs(request.body.decode(), keep_blank_values=True))


def single_values(params: Mapping[str, Any]) -> dict[str, str]:
    """``{name: value}`` from parse_qs lists or plain strings; duplicates are refused."""
    flat: dict[str, str] = {}
    for name, value in params.items():
        values = [value] if isinstance(value, str) else list(value)
        if len(values) != 1:
            raise invalid_request(f"parameter {name} must be sent exactly once")
        flat[name] = values[0]
    return flat


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """``(client_id, secret)`` from ``Authorization: Basic``; both halves form-url-decoded as
    RFC 6749 §2.3.1 says. None without a Basic header; invalid_client if it is malformed."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:
        raise invalid_client("malformed Basic credentials", basic=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise invalid_client("malformed Basic credentials", basic=True)
    return unquote_plus(client_id), unquote_plus(secret)


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, str]:
    """``(client_id, secret, method)`` with method ``client_secret_basic`` or
    ``client_secret_post``; using both methods at once is invalid_request."""
    basic = basic_credentials(request.headers.get("authorization", ""))
    if basic is not None and "client_secret" in form:
        raise invalid_request("more than one client authentication method")
    if basic is not None:
        if form.get("client_id", basic[0]) != basic[0]:
            raise invalid_request("client_id differs from the Basic credentials")
        return basic[0], basic[1], "client_secret_basic"
    if "client_secret" in form:
        return form.get("client_id", ""), form["client_secret"], "client_secret_post"
    raise invalid_client("client authentication required")


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added, keeping any query it already has (RFC 6749 §3.1.2)."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


# --- state ----------------------------------------------------------------------------------


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: set[str] | None = None  # None: any scope may be requested


@dataclass
class Grant:
    """One consent: a refresh-token family and the access tokens issued from it."""

    client_id: str
    scope: str
    user: str
    tenant: str
    refresh_token: str  # the current one; earlier ones are retired
    refresh_expires_at: float
    revoked: bool = False


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    user: str
    tenant: str
    expires_at: float
    grant: Grant | None = None  # set once redeemed


@dataclass
class AccessToken:
    grant: Grant
    scope: str
    expires_at: float
    revoked: bool = False


@dataclass
class Page(Reply):
    """A reply whose ``body`` is an HTML string, sent as ``text/html``."""

    body: str = ""


# --- the server -----------------------------------------------------------------------------


class FakeAuthorizationServer(FakeSystem):
    """Checks PKCE S256, exact redirect URIs, single-use expiring codes bound to client,
    redirect URI and challenge, client authentication (Basic or form, recorded in
    ``auth_methods_seen``), refresh-token rotation, RFC 7009 revocation, and bearer tokens
    (with expiry) on ``/api/me`` and ``/connections``; also the machine (client credentials) and
    password grants. Answers on any host."""

    hosts = (
        "login.microsoftonline.com",
        "api.businesscentral.dynamics.com",
        "login.xero.com",
        "identity.xero.com",
        "api.xero.com",
        "appcenter.intuit.com",
        "oauth.platform.intuit.com",
        "developer.api.intuit.com",
        "quickbooks.api.intuit.com",
        "erp.acme-acumatica.test",  # a customer's own Acumatica
        "acme.omni.manh.com",
        "acme-auth.omni.manh.com",
        "acme.sce.manh.com",
        "acme-auth.sce.manh.com",
        "accounts.zoho.eu",
        "www.zohoapis.eu",
        "secure.myob.com",
        "api.myob.com",
    )

    def __init__(self) -> None:
        super().__init__()
        self.server.RequestHandlerClass = _html_capable(self.server.RequestHandlerClass)
        self._routes: dict[tuple[str, str], Callable[[Request], Reply]] = {
            ("GET", AUTHORIZE_PATH): self._authorize_page,
            ("GET", DECISION_PATH): self._decision,
            ("POST", TOKEN_PATH): self._token,
            ("POST", REVOKE_PATH): self._revoke,
            ("GET", ME_PATH): self._me,
            ("GET", CONNECTIONS_PATH): self._connections,
        }
        self._clear()

    def _clear(self) -> None:
        self._resources: dict[str, Callable[[Grant, Request], Reply]] = {}
        self.machine_clients: dict[str, tuple[str, str]] = {}  # client id → (tenant, scope)
        self.password_users: dict[str, tuple[str, str]] = {}  # username → (password, scope)
        self.clients: dict[str, OAuthClient] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.grants: list[Grant] = []
        self.refresh_tokens: dict[str, Grant] = {}  # every refresh token ever issued
        self.access_tokens: dict[str, AccessToken] = {}
        self.auth_methods_seen: list[str] = []
        self.tenant_names: dict[str, str] = {}
        self.token_extras: dict[str, str] = {}  # more in each token answer (Zoho's api_domain)
        self.code_lifetime = 60
        self.access_lifetime = 1800
        self.refresh_lifetime = 60 * 24 * 3600
        self.realm_in_redirect = False  # QuickBooks adds realmId=<company id>
        self.tenant_param = ""  # MYOB adds businessId=<company file id>
        self.reuse_revokes_family = False  # OAuth Security BCP §4.14.2 reuse detection
        self.consent_user = "user-1"  # who the consent page's links approve as
        self.consent_tenant = "tenant-1"
        self.now: Callable[[], float] = time.time

    def reset(self) -> None:
        """Forget every client, code and token, restore the defaults and the real clock."""
        super().reset()
        self._clear()

    def add_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        scopes: set[str] | None = None,
    ) -> OAuthClient:
        if any(urlsplit(uri).fragment for uri in redirect_uris):
            raise ValueError("a redirect URI must not have a fragment (RFC 6749 §3.1.2)")
        client = OAuthClient(client_id, client_secret, list(redirect_uris), scopes)
        self.clients[client_id] = client
        return client

    def token_active(self, token: str) -> bool:
        """Whether a refresh or access token would still be accepted right now."""
        grant = self.refresh_tokens.get(token)
        if grant is not None:
            return self._refresh_usable(grant, token)
        access = self.access_tokens.get(token)
        return access is not None and self._access_usable(access)

    def serve_provider(
        self,
        *,
        authorize: str,
        token: str,
        revoke: str = "",
        connections: str = "",
        resources: dict[str, Callable[[Grant, Request], Reply]] | None = None,
    ) -> None:
        """Also answer at a real provider's paths (the host map keeps them), with its API's
        read endpoints (``resources``: path prefix → an answer for the token's grant)."""
        self._routes[("GET", authorize)] = self._authorize_page
        self._routes[("POST", token)] = self._token
        if revoke:
            self._routes[("POST", revoke)] = self._revoke
        if connections:
            self._routes[("GET", connections)] = self._connections
        self._resources.update(resources or {})

    def handle(self, request: Request) -> Reply:
        route = self._routes.get((request.method, request.path))
        if route is None:
            route = self._resource(request)
        if route is None:
            return Reply(404, {"error": "not_found"})
        try:
            return route(request)
        except OAuthError as refused:
            return refused.reply

    def _resource(self, request: Request) -> Callable[[Request], Reply] | None:
        for prefix, answer in self._resources.items():
            if request.method == "GET" and request.path.startswith(prefix):
                return lambda request: answer(self._bearer(request).grant, request)
        return None

    # --- authorization endpoint -------------------------------------------------------------

    def approve(
        self, query: Mapping[str, Any], user: str = "user-1", tenant: str = "tenant-1"
    ) -> str:
        """The user allows: validate as ``GET /authorize`` does and return the redirect URL
        carrying a fresh code. Raises :class:`AuthorizeRefused` for an invalid request."""
        client, params = self._check_authorize(query)
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            client_id=client.client_id,
            redirect_uri=params["redirect_uri"],
            code_challenge=params["code_challenge"],
            scope=params.get("scope", ""),
            user=user,
            tenant=tenant,
            expires_at=self.now() + self.code_lifetime,
        )
        answer = {"code": code, **_state(params)}
        if self.realm_in_redirect:
            answer["realmId"] = tenant
        if self.tenant_param:
            answer[self.tenant_param] = tenant
        return with_query(params["redirect_uri"], answer)

    def deny(self, query: Mapping[str, Any]) -> str:
        """The user refuses: the redirect URL with ``error=access_denied``."""
        _, params = self._check_authorize(query)
        answer = {"error": "access_denied", "error_description": "The user denied access"}
        return with_query(params["redirect_uri"], {**answer, **_state(params)})

    def _check_authorize(self, query: Mapping[str, Any]) -> tuple[OAuthClient, dict[str, str]]:
        try:
            params = single_values(query)
        except OAuthError as duplicated:
            raise AuthorizeRefused("invalid_request", duplicated.description) from None
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise AuthorizeRefused("invalid_client", "unknown client_id")
        if params.get("redirect_uri") not in client.redirect_uris:
            raise AuthorizeRefused("invalid_request", "redirect_uri is not registered")
        problem = _authorize_problem(client, params)
        if problem is not None:
            error, description = problem
            back = {"error": error, "error_description": description, **_state(params)}
            raise AuthorizeRefused(error, description, with_query(params["redirect_uri"], back))
        return client, params

    def _authorize_page(self, request: Request) -> Reply:
        try:
            client, params = self._check_authorize(request.query)
        except AuthorizeRefused as refused:
            return _refusal(refused)
        return Page(200, _consent_html(client, params, self.consent_user, self.consent_tenant))

    def _decision(self, request: Request) -> Reply:
        query = {k: v for k, v in request.query.items() if k not in DECISION_KEYS}
        decision = request.query.get("decision", [""])[0]
        user = request.query.get("user", [self.consent_user])[0]
        tenant = request.query.get("tenant", [self.consent_tenant])[0]
        try:
            url = self.approve(query, user, tenant) if decision == "allow" else self.deny(query)
        except AuthorizeRefused as refused:
            return _refusal(refused)
        return Reply(302, None, {"Location": url, **NO_STORE})

    # --- token endpoint ---------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        form = read_form(request)
        client = self._authenticate(request, form)
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._redeem_code(client, form)
        if grant_type == "refresh_token":
            return self._refresh(client, form)
        if grant_type == "client_credentials" and client.client_id in self.machine_clients:
            return self._machine_token(client, form)
        if grant_type == "password" and self.password_users:
            return self._password_token(client, form)
        if not grant_type:
            raise invalid_request("grant_type is required")
        raise OAuthError(400, "unsupported_grant_type", f"{grant_type} is not supported")

    def _authenticate(self, request: Request, form: dict[str, str]) -> OAuthClient:
        client_id, secret, method = client_credentials(request, form)
        client = self.clients.get(client_id)
        basic = method == "client_secret_basic"
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), secret.encode()
        ):
            raise invalid_client("client authentication failed", basic=basic)
        self.auth_methods_seen.append(method)
        return client

    def _machine_token(self, client: OAuthClient, form: dict[str, str]) -> Reply:
        """Client credentials (machine to machine): no user, no refresh token; the tenant is
        the client's own (``machine_clients``), and the scope must be the one it was given."""
        tenant, scope = self.machine_clients[client.client_id]
        if form.get("scope") != scope:
            raise OAuthError(400, "invalid_scope", f"scope must be {scope}")
        grant = Grant(client.client_id, scope, "app", tenant, "", 0)
        return self._access_only(grant)

    def _password_token(self, client: OAuthClient, form: dict[str, str]) -> Reply:
        """Resource-owner password grant (RFC 6749 §4.3): a wrong username or password is
        ``invalid_grant``; the scope must be the one the user may have."""
        username = form.get("username", "")
        password, scope = self.password_users.get(username, ("", ""))
        if not password or not secrets.compare_digest(password, form.get("password", "")):
            raise invalid_grant("invalid username or password")
        if form.get("scope", "") != scope:
            raise OAuthError(400, "invalid_scope", f"scope must be {scope}")
        grant = Grant(client.client_id, scope, username, "", "", 0)
        return self._access_only(grant)

    def _access_only(self, grant: Grant) -> Reply:
        """An access token with no refresh token (the machine and password grants)."""
        token = secrets.token_urlsafe(32)
        expires_at = self.now() + self.access_lifetime
        self.access_tokens[token] = AccessToken(grant, grant.scope, expires_at)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.access_lifetime}
        return Reply(200, body, dict(NO_STORE))

    def _redeem_code(self, client: OAuthClient, form: dict[str, str]) -> Reply:
        code = self.codes.get(form.get("code", ""))
        if code is None or code.client_id != client.client_id:
            raise invalid_grant("unknown authorization code")
        if code.grant is not None:
            code.grant.revoked = True  # RFC 6749 §10.5: a replayed code revokes its tokens
            raise invalid_grant("authorization code already used")
        if code.expires_at <= self.now():
            raise invalid_grant("authorization code expired")
        if form.get("redirect_uri") != code.redirect_uri:
            raise invalid_grant("redirect_uri does not match the authorization request")
        _check_verifier(form.get("code_verifier"), code.code_challenge)
        code.grant = self._new_grant(code)
        return self._issue(code.grant, code.grant.scope)

    def _new_grant(self, code: AuthorizationCode) -> Grant:
        grant = Grant(
            client_id=code.client_id,
            scope=code.scope,
            user=code.user,
            tenant=code.tenant,
            refresh_token=secrets.token_urlsafe(32),
            refresh_expires_at=self.now() + self.refresh_lifetime,
        )
        self.grants.append(grant)
        self.refresh_tokens[grant.refresh_token] = grant
        return grant

    def _refresh(self, client: OAuthClient, form: dict[str, str]) -> Reply:
        token = form.get("refresh_token", "")
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.client_id != client.client_id:
            raise invalid_grant("unknown refresh token")
        if token != grant.refresh_token:
            if self.reuse_revokes_family:
                grant.revoked = True
            raise invalid_grant("refresh token already used: it was rotated")
        if not self._refresh_usable(grant, token):
            raise invalid_grant("refresh token expired or revoked")
        scope = _narrowed_scope(grant.scope, form.get("scope"))
        grant.refresh_token = secrets.token_urlsafe(32)
        grant.refresh_expires_at = self.now() + self.refresh_lifetime
        self.refresh_tokens[grant.refresh_token] = grant
        return self._issue(grant, scope)

    def _issue(self, grant: Grant, scope: str) -> Reply:
        access = secrets.token_urlsafe(32)
        self.access_tokens[access] = AccessToken(grant, scope, self.now() + self.access_lifetime)
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime,
            "refresh_token": grant.refresh_token,
            "scope": scope,
            **self.token_extras,
        }
        return Reply(200, body, dict(NO_STORE))

    def _refresh_usable(self, grant: Grant, token: str) -> bool:
        return (
            not grant.revoked
            and token == grant.refresh_token
            and grant.refresh_expires_at > self.now()
        )

    def _access_usable(self, access: AccessToken) -> bool:
        return not (access.revoked or access.grant.revoked) and access.expires_at > self.now()

    # --- revocation (RFC 7009) ----------------------------------------------------------------

    def _revoke(self, request: Request) -> Reply:
        json_body = request.headers.get("content-type", "").startswith("application/json")
        form = (
            {"token": str((request.json() or {}).get("token", ""))}
            if json_body
            else read_form(request)
        )
        client = self._authenticate(request, form)
        token = form.get("token")
        if not token:
            raise invalid_request("token is required")
        grant = self.refresh_tokens.get(token)
        access = self.access_tokens.get(token)
        if grant is not None and grant.client_id == client.client_id:
            grant.revoked = True  # the refresh token and every access token issued from it
        elif access is not None and access.grant.client_id == client.client_id:
            access.revoked = True
        return Reply(200, None, dict(NO_STORE))  # unknown tokens too (RFC 7009 §2.2)

    # --- protected API ------------------------------------------------------------------------

    def _bearer(self, request: Request) -> AccessToken:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
            raise OAuthError(401, "unauthorized", "a Bearer access token is required", challenge)
        access = self.access_tokens.get(token.strip())
        if access is None or not self._access_usable(access):
            challenge = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}
            raise OAuthError(401, "invalid_token", "token expired, revoked or unknown", challenge)
        return access

    def _me(self, request: Request) -> Reply:
        grant = self._bearer(request).grant
        return Reply(200, {"tenant": grant.tenant, "user": grant.user})

    def _connections(self, request: Request) -> Reply:
        """Xero's list: every tenant this user has connected to this app and not revoked."""
        mine = self._bearer(request).grant
        tenants: dict[str, None] = {}
        for grant in self.grants:
            if (grant.client_id, grant.user) == (mine.client_id, mine.user) and not grant.revoked:
                tenants[grant.tenant] = None
        return Reply(200, [self._connection(tenant) for tenant in tenants])

    def _connection(self, tenant: str) -> dict[str, str]:
        return {
            "id": hashlib.sha256(tenant.encode()).hexdigest()[:32],
            "tenantId": tenant,
            "tenantType": "ORGANISATION",
            "tenantName": self.tenant_names.get(tenant, tenant),
        }


# --- module helpers -------------------------------------------------------------------------


def _state(params: dict[str, str]) -> dict[str, str]:
    return {"state": params["state"]} if "state" in params else {}


def _authorize_problem(client: OAuthClient, params: dict[str, str]) -> tuple[str, str] | None:
    """What a real server reports back to the redirect URI, or None if all is well."""
    if params.get("response_type") != "code":
        return "unsupported_response_type", "only response_type=code is supported"
    if "code_challenge" not in params:
        return "invalid_request", "code_challenge is required (PKCE)"
    if params.get("code_challenge_method") != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if not S256_CHALLENGE.fullmatch(params["code_challenge"]):
        return "invalid_request", "code_challenge is not a base64url SHA-256 digest"
    requested = set(params.get("scope", "").split())
    if client.scopes is not None and not requested <= client.scopes:
        return "invalid_scope", f"not allowed: {' '.join(sorted(requested - client.scopes))}"
    return None


def _check_verifier(verifier: str | None, challenge: str) -> None:
    if verifier is None:
        raise invalid_request("code_verifier is required (PKCE)")
    if not VERIFIER.fullmatch(verifier):
        raise invalid_request("code_verifier must be 43-128 unreserved characters")
    if not secrets.compare_digest(s256(verifier), challenge):
        raise invalid_grant("code_verifier does not match the code_challenge")


def _narrowed_scope(granted: str, requested: str | None) -> str:
    if requested is None:
        return granted
    if not set(requested.split()) <= set(granted.split()):
        raise OAuthError(400, "invalid_scope", "a refresh cannot widen the granted scope")
    return requested


def _refusal(refused: AuthorizeRefused) -> Reply:
    if refused.redirect_url is not None:
        return Reply(302, None, {"Location": refused.redirect_url, **NO_STORE})
    text = html.escape(f"{refused.error}: {refused.description}")
    return Page(400, f"<!doctype html><title>Error</title><h1>Error</h1><p>{text}</p>")


def _consent_html(client: OAuthClient, params: dict[str, str], user: str, tenant: str) -> str:
    base = {**params, "user": user, "tenant": tenant}
    allow = f"{DECISION_PATH}?{urlencode({**base, 'decision': 'allow'})}"
    deny = f"{DECISION_PATH}?{urlencode({**base, 'decision': 'deny'})}"
    name, scope = html.escape(client.client_id), html.escape(params.get("scope", ""))
    return (
        "<!doctype html><html><head><title>Authorize access</title></head><body>"
        f"<h1>{name} wants to access your data</h1>"
        f"<p>Signed in as {html.escape(user)}, organisation {html.escape(tenant)}.</p>"
        f"<p>Scopes: {scope}</p>"
        f'<a id="allow" href="{html.escape(allow)}">Allow</a> '
        f'<a id="deny" href="{html.escape(deny)}">Deny</a>'
        "</body></html>"
    )


def _html_capable(handler: type) -> type:
    """The server's handler class, taught to send :class:`Page` replies as HTML."""

    class HtmlCapableHandler(handler):  # type: ignore[misc, valid-type]
        def _reply(self, reply: Reply) -> None:
            if not isinstance(reply, Page):
                super()._reply(reply)
                return
            payload = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return HtmlCapableHandler
