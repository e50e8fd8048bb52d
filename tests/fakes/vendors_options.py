"""Simulators for the systems the scheme options let in, each checking what its vendor's
documentation says the real system checks: CartonCloud (a token request that must carry
``Accept-Version: 1``), Shopify's Dev Dashboard apps (client credentials at the store, the token
in ``X-Shopify-Access-Token``), EasyPost (the API key as the Basic username, no password) and
Fakturoid (OAuth code exchange as JSON, with a ``User-Agent`` naming an app and a contact on
every request)."""

from __future__ import annotations

import base64
import re
import secrets
from urllib.parse import parse_qs, urlencode

from tests.fakes.base import FakeSystem, Reply, Request
from tests.fakes.oauth import OAuthError, basic_credentials


def _bearer(request: Request, header: str = "authorization") -> str:
    value = request.headers.get(header, "")
    if header != "authorization":
        return value
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() == "bearer" else ""


def _client_ok(request: Request, clients: dict[str, str]) -> bool:
    try:
        found = basic_credentials(request.headers.get("authorization", ""))
    except OAuthError:  # a malformed header is a refusal like any other
        return False
    known = clients.get(found[0]) if found else None
    return known is not None and secrets.compare_digest(known, found[1])


class FakeCartonCloud(FakeSystem):
    """``POST /uaa/oauth/token`` wants the client in HTTP Basic, ``grant_type`` as a form and
    ``Accept-Version: 1``; it answers ``{"access_token", "token_type": "bearer",
    "expires_in"}``. ``GET /tenants/{tenant}/warehouse-products`` wants the bearer token and
    ``Accept-Version: 1`` (api-docs.cartoncloud.com)."""

    hosts = ("api.cartoncloud.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.clients: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.tenant = "5b3c1a3e-0000-4000-8000-000000000001"

    def handle(self, request: Request) -> Reply:
        if request.headers.get("accept-version") != "1":
            return Reply(406, {"message": "Unsupported API version"})
        if request.method == "POST" and request.path == "/uaa/oauth/token":
            return self._token(request)
        if _bearer(request) not in self.tokens:
            return Reply(401, {"error": "invalid_token"})
        if request.path == f"/tenants/{self.tenant}/warehouse-products":
            return Reply(200, [{"id": "p-1", "name": "Carton"}])
        return Reply(403, {"message": "Access is denied"})

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if not _client_ok(request, self.clients):
            return Reply(401, {"error": "unauthorized", "error_description": "Bad credentials"})
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})


class FakeShopifyStore(FakeSystem):
    """A store (``{shop}.myshopify.com``) with a Dev Dashboard app installed:
    ``POST /admin/oauth/access_token`` takes ``grant_type=client_credentials`` with the app's
    id and secret in the form and answers ``{"access_token", "scope", "expires_in"}``; the Admin
    API wants that token in ``X-Shopify-Access-Token`` (a bearer header is not it)."""

    hosts = ("*.myshopify.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.apps: dict[str, str] = {}  # client id → secret, installed on this store
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/admin/oauth/access_token":
            return self._token(request)
        if request.headers.get("x-shopify-access-token", "") not in self.tokens:
            return Reply(401, {"errors": "[API] Invalid API key or access token"})
        if request.path.endswith("/shop.json"):
            return Reply(200, {"shop": {"id": 1, "name": "Acme", "myshopify_domain": "x"}})
        return Reply(404, {"errors": "Not Found"})

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        known = self.apps.get(form.get("client_id", ""))
        secret = form.get("client_secret", "")
        if known is None or not secrets.compare_digest(known, secret):
            return Reply(400, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        token = "shpat_" + secrets.token_hex(8)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "scope": "read_products", "expires_in": 86399})


class FakeEasyPost(FakeSystem):
    """``GET /v2/addresses`` wants the API key as the Basic username with nothing after the
    colon; it answers ``{"addresses": [...], "has_more"}``."""

    hosts = ("api.easypost.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.keys: set[str] = set()

    def handle(self, request: Request) -> Reply:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            decoded = ""
        key, colon, password = decoded.partition(":")
        if scheme != "Basic" or not colon or password or key not in self.keys:
            body = {"error": {"code": "APIKEY.INACTIVE", "message": "Invalid API key"}}
            return Reply(401, body)
        if request.path == "/v2/addresses":
            return Reply(200, {"addresses": [], "has_more": False})
        return Reply(404, {"error": {"code": "NOT_FOUND", "message": "Not found"}})


USER_AGENT = re.compile(r".+ \([^@\s()]+@[^@\s()]+\)")


class FakeFakturoid(FakeSystem):
    """``app.fakturoid.cz``: every request without a ``User-Agent`` naming an app and a contact
    email (``App (admin@example.com)``) gets 400. ``POST /api/v3/oauth/token.json`` takes JSON
    (a form gets 415) with the client in HTTP Basic, for ``authorization_code`` (the code and
    its redirect URI) or ``refresh_token``; ``GET /api/v3/user.json`` and
    ``/api/v3/accounts/{slug}/account.json`` want the bearer token."""

    hosts = ("app.fakturoid.cz",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.clients: dict[str, str] = {}
        self.codes: dict[str, str] = {}  # code → redirect URI
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.account = "applecorp"

    def approve(self, query: dict[str, str]) -> str:
        """The user consents on the authorize page: where the browser is sent back."""
        code = secrets.token_urlsafe(12)
        self.codes[code] = query["redirect_uri"]
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def handle(self, request: Request) -> Reply:
        if not USER_AGENT.fullmatch(request.headers.get("user-agent", "")):
            return Reply(400, {"error": "User-Agent header is missing or invalid"})
        if request.method == "POST" and request.path == "/api/v3/oauth/token.json":
            return self._token(request)
        if _bearer(request) not in self.tokens:
            return Reply(401, {"error": "invalid_token"})
        if request.path == "/api/v3/user.json":
            return Reply(200, {"id": 5, "accounts": [{"slug": self.account}]})
        if request.path == f"/api/v3/accounts/{self.account}/account.json":
            return Reply(200, {"subdomain": self.account, "name": "Apple Corp"})
        return Reply(403, {"error": "forbidden"})

    def _token(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return Reply(415, {"error": "unsupported_media_type"})
        if not _client_ok(request, self.clients):
            return Reply(401, {"error": "invalid_client"})
        body = request.json() or {}
        if body.get("grant_type") == "authorization_code":
            redirect = self.codes.pop(str(body.get("code", "")), None)
            if redirect is None or redirect != body.get("redirect_uri"):
                return Reply(400, {"error": "invalid_grant"})
        elif body.get("grant_type") == "refresh_token":
            if body.get("refresh_token") not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant"})
        else:
            return Reply(400, {"error": "unsupported_grant_type"})
        token, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.tokens.add(token)
        self.refresh_tokens.add(refresh)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": 7200}
        return Reply(200, answer | {"refresh_token": refresh})


class FakePairedLogin(FakeSystem):
    """A login that wants a client header and pairs its token with it, the way eMaint X4's
    token is paired with the ``Xt-UserAgent`` it was generated with (Tulip's eMaint connector
    page): ``POST /api/login`` without ``Xt-UserAgent`` gets 400; later calls need the token
    as a bearer and the same ``Xt-UserAgent``, else 401."""

    hosts = ("cmms.paired.test",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.users: dict[str, str] = {}
        self.tokens: dict[str, str] = {}  # token → the Xt-UserAgent it was made for

    def handle(self, request: Request) -> Reply:
        agent = request.headers.get("xt-useragent", "")
        if request.method == "POST" and request.path == "/api/login":
            body = request.json() or {}
            if not agent:
                return Reply(400, {"message": "Xt-UserAgent header is required"})
            known = self.users.get(str(body.get("username", "")))
            if known is None or not secrets.compare_digest(known, str(body.get("password", ""))):
                return Reply(401, {"message": "Invalid login"})
            token = secrets.token_urlsafe(12)
            self.tokens[token] = agent
            return Reply(200, {"token": token})
        if not agent or self.tokens.get(_bearer(request)) != agent:
            return Reply(401, {"message": "Invalid token"})
        return Reply(200, {"records": []})
