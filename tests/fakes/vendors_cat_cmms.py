"""Simulators of maintenance systems whose sign-in has a twist (helper cat-cmms, issue 21):
UpKeep (a form login answering a session nested in ``result``), Asset Essentials (a form login
answering the token as a bare JSON string, sent back after ``Basic``), ServiceTitan (a client
credentials token plus the app key on every call) and HxGN EAM (Basic plus the tenant and
organization headers). Each checks what its vendor's pages say the real one checks."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from tests.fakes.base import FakeSystem, Reply, Request

FORM = "application/x-www-form-urlencoded"


def form_of(request: Request) -> dict[str, str] | None:
    """The request's form fields, or None when it is not a form."""
    if not request.headers.get("content-type", "").startswith(FORM):
        return None
    return {key: values[0] for key, values in parse_qs(request.body.decode()).items()}


def known(passwords: dict[str, str], user: str, password: str) -> bool:
    expected = passwords.get(user)
    return expected is not None and secrets.compare_digest(expected, password)


class FakeUpKeep(FakeSystem):
    """``POST /api/v2/auth`` with ``email`` and ``password`` (the reference's curl sends a form)
    answers ``{"success": true, "result": {"sessionToken", "expiresAt"}}``; the API wants the
    token in ``Session-Token``."""

    hosts = ("api.onupkeep.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.users: dict[str, str] = {}
        self.sessions: set[str] = set()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/api/v2/auth":
            return self._login(request)
        if request.headers.get("session-token", "") not in self.sessions:
            return Reply(401, {"success": False, "message": "Invalid session token"})
        if request.path == "/api/v2/users/":
            return Reply(200, {"success": True, "results": [{"id": "u1"}]})
        return Reply(404, {"success": False, "message": "Not found"})

    def _login(self, request: Request) -> Reply:
        form = form_of(request) or {}
        if not known(self.users, form.get("email", ""), form.get("password", "")):
            return Reply(400, {"success": False, "message": "Invalid email or password"})
        token = "r:" + secrets.token_hex(16)
        self.sessions.add(token)
        result = {"sessionToken": token, "expiresAt": "2030-01-01T00:00:00.000Z"}
        return Reply(200, {"success": True, "result": result})


class FakeAssetEssentials(FakeSystem):
    """``POST /<Company>/api/login`` as a form with ``LoginName``, ``Password``, ``CultureCode``
    and ``Expires`` answers the token in the body (JSON, like every answer); later calls send
    ``Authorization: Basic <token>`` to the same company's ``/api``."""

    hosts = ("assetessentials.dudesolutions.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.company = "AcmeCo"
        self.users: dict[str, str] = {}
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Reply:
        prefix = f"/{self.company}/api"
        if not request.path.startswith(prefix + "/"):
            return Reply(404, {"Message": "Unknown organization"})
        path = request.path.removeprefix(prefix)
        if request.method == "POST" and path == "/login":
            return self._login(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Basic" or token not in self.tokens:
            return Reply(401, {"Message": "Authorization has been denied for this request."})
        if path == "/workorders":
            return Reply(200, {"Items": [], "HasNextPage": False, "PageSize": 1})
        return Reply(404, {"Message": "Not found"})

    def _login(self, request: Request) -> Reply:
        form = form_of(request)
        if form is None or not form.get("CultureCode") or not form.get("Expires"):
            return Reply(400, {"Message": "The request is invalid."})
        if not known(self.users, form.get("LoginName", ""), form.get("Password", "")):
            return Reply(401, {"Message": "Invalid login name or password."})
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return Reply(200, token)


class FakeServiceTitan(FakeSystem):
    """``POST auth.servicetitan.io/connect/token`` (a form with ``client_credentials``) answers a
    bearer token; ``api.servicetitan.io/<module>/v2/tenant/<tenant>/...`` wants the token and
    the app key (``ST-App-Key``) of an app the tenant connected."""

    hosts = ("auth.servicetitan.io", "api.servicetitan.io")

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.clients: dict[str, str] = {}
        self.tenant = "123456789"
        self.app_key = "ak1.onramp"
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Reply:
        if request.host == "auth.servicetitan.io" and request.path == "/connect/token":
            return self._token(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            return Reply(401, {"title": "Unauthorized", "status": 401})
        if request.headers.get("st-app-key") != self.app_key:
            return Reply(401, {"title": "App key is missing or invalid", "status": 401})
        if request.path == f"/crm/v2/tenant/{self.tenant}/customers":
            return Reply(200, {"page": 1, "pageSize": 1, "hasMore": False, "data": []})
        return Reply(404, {"title": "Not Found", "status": 404})

    def _token(self, request: Request) -> Reply:
        form = form_of(request) or {}
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if not known(self.clients, form.get("client_id", ""), form.get("client_secret", "")):
            return Reply(400, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 900, "token_type": "Bearer"})


class FakeHxgnEam(FakeSystem):
    """REST web services under ``/axis/restservices`` with HTTP Basic and the ``tenant`` and
    ``organization`` headers; answers carry ``ErrorAlert`` and ``Result``. ``lgncon`` models a
    tenant whose LGNCON install parameter sends sign-ins to SSO: its own users then get in only
    with the ``authenticationmode: internal`` header ("Header parameters")."""

    hosts = ("us1.eam.hxgnsmartcloud.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.basic = ""  # the expected Authorization header
        self.tenant = "ACME_PRD"
        self.organization = "ORG1"
        self.lgncon = False

    def handle(self, request: Request) -> Reply:
        internal = request.headers.get("authenticationmode", "").lower() == "internal"
        if self.lgncon and not internal:
            return Reply(401, {"ErrorAlert": [{"Message": "Sign in with single sign-on"}]})
        if not self.basic or request.headers.get("authorization") != self.basic:
            return Reply(401, {"ErrorAlert": [{"Message": "Invalid credentials"}]})
        if request.headers.get("tenant") != self.tenant:
            return Reply(401, {"ErrorAlert": [{"Message": "Tenant is missing or unknown"}]})
        if request.headers.get("organization") != self.organization:
            alert = [{"Message": "User has no access to organization"}]
            return Reply(200, {"ErrorAlert": alert, "Result": None})
        if request.path == "/axis/restservices/workorders":
            return Reply(200, {"ErrorAlert": [], "Result": {"ResultData": {"DATARECORD": []}}})
        return Reply(404, {"ErrorAlert": [{"Message": "Not found"}]})
