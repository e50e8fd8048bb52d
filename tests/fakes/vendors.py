"""Small simulators of catalog systems whose sign-in has a twist worth checking end to end:
Extensiv 3PL Warehouse Manager (a JSON token request naming the user), Veeqo (an API key that a
payment due also refuses), Linnworks (a session whose answer names the API's own server) and a
form login answering a nested session token."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from tests.fakes.base import FakeSystem, Reply, Request
from tests.fakes.oauth import basic_credentials

HAL = {"Content-Type": "application/hal+json"}
FORM = "application/x-www-form-urlencoded"


class FakeExtensiv(FakeSystem):
    """``POST /AuthServer/api/Token`` with the client in HTTP Basic and a JSON body
    ``{"grant_type": "client_credentials", "user_login": ...}``, as Extensiv's example sends
    it; a form body is refused. ``GET /customers`` wants the bearer token."""

    hosts = ("secure-wms.com",)

    def reset(self) -> None:
        super().reset()
        self.clients: dict[str, tuple[str, str]] = {}  # client id → (secret, user login)
        self.tokens: set[str] = set()

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/AuthServer/api/Token":
            return self._token(request)
        if request.method == "GET" and request.path == "/customers":
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme != "Bearer" or token not in self.tokens:
                return Reply(401, {"ErrorCode": "Unauthorized"})
            return Reply(200, {"TotalResults": 1, "ResourceList": [{"CustomerId": 1}]}, HAL)
        return Reply(404, {"ErrorCode": "NotFound"})

    def _token(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return Reply(415, {"Message": "The request entity's media type is not supported."})
        client = basic_credentials(request.headers.get("authorization", ""))
        known = self.clients.get(client[0]) if client else None
        if client is None or known is None or not secrets.compare_digest(known[0], client[1]):
            return Reply(401, {"error": "invalid_client"})
        body = request.json()
        if body.get("grant_type") != "client_credentials" or body.get("user_login") != known[1]:
            return Reply(400, {"error": "invalid_grant"})
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3599})


class FakeVeeqo(FakeSystem):
    """``x-api-key`` on every call; an account with a payment due is refused with 401 too
    (Veeqo's HTTP codes page)."""

    hosts = ("api.veeqo.com",)

    def reset(self) -> None:
        super().reset()
        self.keys: dict[str, bool] = {}  # key → account paid up

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        if not self.keys.get(request.headers.get("x-api-key", ""), False):
            return Reply(401, {"error_messages": "Unauthorized"})
        if request.path == "/current_company":
            return Reply(200, {"id": 1, "name": "Acme Ltd"})
        return Reply(404, {"error_messages": "Not Found"})


class FakeLinnworks(FakeSystem):
    """``POST api.linnworks.net/api/Auth/AuthorizeByApplication`` with the application's id and
    secret and the installation token answers a session ``Token`` and the ``Server`` that
    serves the account; only that server accepts the session, in a bare ``Authorization``."""

    hosts = ("api.linnworks.net", "eu-ext.linnworks.net")

    def reset(self) -> None:
        super().reset()
        self.account_server: str | None = "https://eu-ext.linnworks.net"  # the answer's Server
        self.installs: dict[str, tuple[str, str]] = {}  # token → (application id, secret)
        self.sessions: set[str] = set()

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        if (
            request.path == "/api/Auth/AuthorizeByApplication"
            and request.host == "api.linnworks.net"
        ):
            return self._authorize(request)
        if request.host != "eu-ext.linnworks.net":
            return Reply(404, {"Code": None, "Message": "Not found"})
        if request.headers.get("authorization", "") not in self.sessions:
            return Reply(401, {"Code": None, "Message": "Authorization has been denied."})
        if request.path == "/api/Inventory/GetStockLocations":
            return Reply(200, [{"StockLocationId": "00000000-0000-0000-0000-000000000000"}])
        return Reply(404, {"Code": None, "Message": "Not found"})

    def _authorize(self, request: Request) -> Reply:
        body = request.json() if request.body else {}
        known = self.installs.get(str(body.get("Token", "")))
        given = (body.get("ApplicationId"), body.get("ApplicationSecret"))
        if known is None or given != known:
            return Reply(400, {"Code": None, "Message": "Invalid application or token"})
        session = secrets.token_hex(16)
        self.sessions.add(session)
        return Reply(200, {"Token": session, "Server": self.account_server, "TTL": 1200})


class FakeFormLogin(FakeSystem):
    """A system whose login takes a form (``email``, ``password``) and answers the session
    nested in the answer (``{"success": true, "result": {"sessionToken": ...}}``, the shape
    UpKeep's and Asset Essentials' login APIs are described with), sent back in
    ``Session-Token``; its API also wants the ``X-Company`` header the customer's own value
    fills in."""

    hosts = ("cmms.acme.test",)

    def reset(self) -> None:
        super().reset()
        self.users: dict[str, str] = {}  # email → password
        self.company = "ACME"
        self.session_key = "sessionToken"
        self.sessions: set[str] = set()

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/api/v2/auth":
            return self._login(request)
        if request.headers.get("session-token", "") not in self.sessions:
            return Reply(401, {"success": False, "message": "Invalid session"})
        if request.headers.get("x-company") != self.company:
            return Reply(403, {"success": False, "message": "Unknown company"})
        if request.path == "/api/v2/assets":
            return Reply(200, {"success": True, "results": []})
        return Reply(404, {"success": False, "message": "Not found"})

    def _login(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith(FORM):
            return Reply(415, {"success": False, "message": "Send a form"})
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        password = self.users.get(form.get("email", ""))
        if password is None or not secrets.compare_digest(password, form.get("password", "")):
            return Reply(400, {"success": False, "message": "Invalid email or password"})
        session = secrets.token_hex(16)
        self.sessions.add(session)
        return Reply(200, {"success": True, "result": {self.session_key: session}})
