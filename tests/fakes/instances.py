"""Self-hosted and per-tenant systems reached at the customer's own address: Odoo 19+
(JSON-2 API), ERPNext (Frappe REST) and SAP Business One's Service Layer. Each answers on its
customer's host (``odoo.acme.test``, ``erp.acme.test``, ``sap.acme.test``)."""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes.base import FakeSystem, Reply, Request

# What a customer enters in the flow for each simulated instance.
ODOO = {"instance": "https://odoo.acme.test", "database": "acme"}
ERPNEXT = {"site": "https://erp.acme.test"}
SAP = {"service_layer": "https://sap.acme.test", "company_db": "SBOACME", "username": "api"}


class FakeOdoo(FakeSystem):
    """``POST /json/2/<model>/<method>`` with ``Authorization: bearer <API key>`` and
    ``X-Odoo-Database``; keys belong to one database; a user may lack read access."""

    hosts = ("odoo.acme.test",)

    def reset(self) -> None:
        super().reset()
        self.keys: dict[str, tuple[str, bool]] = {}  # key → (database, may read companies)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        if not request.path.startswith("/json/2/") or request.method != "POST":
            return Reply(404, {"message": "Not Found"})
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        database = request.headers.get("x-odoo-database", "")
        if scheme.lower() != "bearer" or self.keys.get(key, ("",))[0] != database:
            return Reply(401, _odoo_error("werkzeug.exceptions.Unauthorized", "Invalid apikey"))
        if request.path == "/json/2/res.company/search_read" and not self.keys[key][1]:
            message = "You are not allowed to access 'Company' (res.company) records."
            return Reply(403, _odoo_error("odoo.exceptions.AccessError", message))
        return Reply(200, [{"id": 1, "name": "Acme Manufacturing"}])


def _odoo_error(name: str, message: str) -> dict[str, Any]:
    return {"name": name, "message": message, "arguments": [message], "context": {}}


class FakeERPNext(FakeSystem):
    """Frappe's ``Authorization: token <key>:<secret>``; without it requests run as Guest."""

    hosts = ("erp.acme.test",)

    def reset(self) -> None:
        super().reset()
        self.users: dict[str, tuple[str, str, bool]] = {}  # key → (secret, user, may read)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        user = self._user(request)
        if user is False:
            return Reply(401, {"exc_type": "AuthenticationError", "message": "Invalid API key"})
        if request.path == "/api/method/frappe.auth.get_logged_user":
            return Reply(200, {"message": user[0] if user else "Guest"})
        if request.path == "/api/resource/Company":
            if not user or not user[1]:
                messages = '[{"message": "Not permitted"}]'
                return Reply(403, {"exc_type": "PermissionError", "_server_messages": messages})
            return Reply(200, {"data": [{"name": "Acme Manufacturing"}]})
        return Reply(404, {"exc_type": "DoesNotExistError"})

    def _user(self, request: Request) -> tuple[str, bool] | bool | None:
        authorization = request.headers.get("authorization", "")
        if not authorization:
            return None
        scheme, _, pair = authorization.partition(" ")
        key, _, secret = pair.partition(":")
        known = self.users.get(key)
        if scheme != "token" or known is None or not secrets.compare_digest(known[0], secret):
            return False
        return known[1], known[2]


class FakeSAPBusinessOne(FakeSystem):
    """The Service Layer: ``POST /b1s/v1/Login`` sets ``B1SESSION`` and ``ROUTEID``; later
    calls must send both cookies; sessions end after ``SessionTimeout`` minutes (or now)."""

    hosts = ("sap.acme.test",)

    def reset(self) -> None:
        super().reset()
        self.users: dict[
            tuple[str, str], tuple[str, bool]
        ] = {}  # (db, user) → (password, may read)
        self.sessions: dict[str, tuple[str, str]] = {}  # B1SESSION → (db, user)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        if request.path == "/b1s/v1/Login" and request.method == "POST":
            return self._login(request.json() or {})
        session = self.sessions.get(_cookies(request).get("B1SESSION", ""))
        if session is None or _cookies(request).get("ROUTEID") != ".node1":
            return Reply(401, _b1_error(301, "Invalid session or session already timeout."))
        if request.path == "/b1s/v1/Items":
            if not self.users[session][1]:
                return Reply(403, _b1_error(-5002, "No permission to read Items."))
            body = {"odata.metadata": "$metadata#Items", "value": [{"ItemCode": "A0001"}]}
            return Reply(200, body)
        return Reply(404, _b1_error(-2028, "No matching records found."))

    def _login(self, body: dict[str, str]) -> Reply:
        key = (body.get("CompanyDB", ""), body.get("UserName", ""))
        known = self.users.get(key)
        if known is None or not secrets.compare_digest(known[0], body.get("Password", "")):
            return Reply(401, _b1_error(100000027, "Login failed"))
        session = secrets.token_hex(16)
        self.sessions[session] = key
        cookies = [f"B1SESSION={session}; HttpOnly", "ROUTEID=.node1; path=/b1s"]
        answer = {"SessionId": session, "Version": "1000190", "SessionTimeout": 30}
        return Reply(200, answer, {"Set-Cookie": cookies})


def _cookies(request: Request) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in request.headers.get("cookie", "").split(";"))
    return {name: value for name, _, value in pairs if name}


def _b1_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": {"lang": "en-us", "value": message}}}
