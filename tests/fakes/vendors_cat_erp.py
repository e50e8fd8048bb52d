"""Simulators of catalog systems whose sign-in has a twist worth checking end to end (issue 21,
helper cat-erp): Striven (a client-credentials token request with the client in HTTP Basic and
its id again as ``ClientId`` in the form), Deltek Vantagepoint (a password grant that also names
the database and ``Integrated=N``) and MRPeasy (HTTP Basic, and a list answered ``206 Partial
Content`` when a ``Range`` header asks for part of it)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from tests.fakes.base import FakeSystem, Reply, Request
from tests.fakes.oauth import basic_credentials

FORM = "application/x-www-form-urlencoded"


def _form(request: Request) -> dict[str, str] | None:
    if not request.headers.get("content-type", "").startswith(FORM):
        return None
    return {key: values[0] for key, values in parse_qs(request.body.decode()).items()}


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""


class FakeStriven(FakeSystem):
    """``POST /accesstoken``: the client id and secret in HTTP Basic, a form with
    ``grant_type=client_credentials`` and ``ClientId`` (Striven's own sample sends both);
    ``GET /v1/classes`` wants the bearer token."""

    hosts = ("api.striven.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.clients: dict[str, str] = {}  # client id → secret
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/accesstoken":
            return self._token(request)
        if request.method == "GET" and request.path == "/v1/classes":
            if _bearer(request) not in self.tokens:
                return Reply(401, {"Message": "Authorization has been denied for this request."})
            return Reply(200, [{"id": 1, "name": "Default"}])
        return Reply(404, {"Message": "Not found"})

    def _token(self, request: Request) -> Reply:
        client = basic_credentials(request.headers.get("authorization", ""))
        known = self.clients.get(client[0]) if client else None
        if client is None or known is None or not secrets.compare_digest(known, client[1]):
            return Reply(401, {"error": "invalid_client"})
        form = _form(request) or {}
        if form.get("grant_type") != "client_credentials" or form.get("ClientId") != client[0]:
            return Reply(400, {"error": "invalid_request"})
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})


class FakeVantagepoint(FakeSystem):
    """``POST /acme/api/token``: a password grant naming the user, the API authorization's
    client and the ``database``, with ``Integrated=N`` for a Vantagepoint password; ``GET
    /acme/api/employee`` wants the bearer token."""

    hosts = ("acme.deltekfirst.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.client = ("vp-client", "vp-secret")
        self.database = "ACME_PROD"
        self.users: dict[str, str] = {}  # username → password
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/acme/api/token":
            return self._token(request)
        if request.method == "GET" and request.path == "/acme/api/employee":
            if _bearer(request) not in self.tokens:
                return Reply(401, {"Message": "Authorization has been denied for this request."})
            return Reply(200, [{"Employee": "00001"}])
        return Reply(404, {"Message": "Not found"})

    def _token(self, request: Request) -> Reply:
        form = _form(request) or {}
        if (form.get("client_id"), form.get("client_secret")) != self.client:
            return Reply(400, {"error": "invalid_client"})
        if form.get("grant_type") != "password" or form.get("Integrated") != "N":
            return Reply(400, {"error": "unsupported_grant_type"})
        password = self.users.get(form.get("username", ""))
        if form.get("database") != self.database or password != form.get("password"):
            return Reply(400, {"error": "invalid_grant"})
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 1799})


class FakeMRPeasy(FakeSystem):
    """HTTP Basic with the API key and secret; ``GET /rest/v1/items`` answers the whole list
    with 200, or part of it with 206 and ``content-range`` when ``range: items=a-b`` asks."""

    hosts = ("api.mrpeasy.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.keys: dict[str, str] = {}  # API key → secret
        self.items = [{"article_id": n, "code": f"A-{n}"} for n in range(1, 251)]

    def handle(self, request: Request) -> Reply:
        if request.method != "GET" or request.path != "/rest/v1/items":
            return Reply(404, {"message": "Not found"})
        pair = basic_credentials(request.headers.get("authorization", ""))
        known = self.keys.get(pair[0]) if pair else None
        if pair is None or known is None or not secrets.compare_digest(known, pair[1]):
            return Reply(401, {"message": "Unauthorized"})
        first, _, last = request.headers.get("range", "").removeprefix("items=").partition("-")
        if not first.isdigit():
            return Reply(200, self.items[:100])
        end = int(last) if last.isdigit() else int(first) + 99
        part = self.items[int(first) : end + 1]
        total = len(self.items)
        headers = {"content-range": f"items {first}-{int(first) + len(part) - 1}/{total}"}
        return Reply(206, part, headers)
