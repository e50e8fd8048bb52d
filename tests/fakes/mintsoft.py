"""Mintsoft: username + password → an API key (a JSON string) that expires; ``ms-apikey``.

Listings as Mintsoft's Swagger describes them (api.mintsoft.co.uk; its generated PHP client,
gpl-ajackson/mintsoft-client-php, docs/Api/ASNApi.md and ProductApi.md): ``GET /api/ASN/List``
(``PageNo`` from 1, ``Limit`` at most 100, ``SinceLastUpdated``, ``IncludeASNItems``: without
it ``Items`` is null), ``GET /api/Product/List`` (``PageNo``, ``Limit``, ``SinceLastUpdated``)
and ``GET /api/Product/Suppliers`` (``PageNo``, ``Limit``; no modified filter), each a bare
JSON array; a page past the end is ``[]``. Limits over 100 are refused with 400 (seen by
integrators, not documented). ``throttle`` answers the next that many listings 429 with
Retry-After (Mintsoft documents no rate limit: this is the stand-in's own test hook).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.base import FakeSystem, Reply, Request

KEY_LIFETIME = 24 * 3600
MAX_LIMIT = 100


@dataclass
class MintsoftUser:
    password: str
    warehouse: bool = True  # client users cannot list warehouses


class FakeMintsoft(FakeSystem):
    hosts = ("api.mintsoft.co.uk",)

    def reset(self) -> None:
        super().reset()
        self.users.clear()
        self.keys.clear()
        self.now = time.time
        self.asns.clear()
        self.products.clear()
        self.suppliers.clear()
        self.throttle = 0

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, MintsoftUser] = {}
        self.keys: dict[str, tuple[str, float]] = {}  # key → (username, expires at)
        self.now = time.time
        self.asns: list[dict[str, Any]] = []
        self.products: list[dict[str, Any]] = []
        self.suppliers: list[dict[str, Any]] = []
        self.throttle = 0  # the next this many listings answer 429

    def handle(self, request: Request) -> Reply:
        if request.host != "api.mintsoft.co.uk":
            return Reply(404, {"Message": "Not found"})
        if request.path == "/api/Auth" and request.method == "POST":
            return self._auth(request)
        if request.path == "/api/Warehouse" and request.method == "GET":
            return self._warehouses(request)
        if request.path in LISTINGS and request.method == "GET":
            return self._listing(request)
        return Reply(404, {"Message": "No HTTP resource was found that matches the request URI."})

    def _auth(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return Reply(415, {"Message": "Unsupported media type"})
        body = request.json() or {}
        user = self.users.get(body.get("Username", ""))
        if user is None or not secrets.compare_digest(user.password, body.get("Password", "")):
            return Reply(401, {"Message": "Invalid username or password"})
        key = secrets.token_hex(16)
        self.keys[key] = (body["Username"], self.now() + KEY_LIFETIME)
        return Reply(200, key)

    def _signed_in(self, request: Request) -> Reply | str:
        """The key's user, or the refusal."""
        if "APIKey" in request.query:
            return Reply(401, {"Message": "API keys in the query string are no longer accepted"})
        owner = self.keys.get(request.headers.get("ms-apikey", ""))
        if owner is None or owner[1] < self.now():
            return Reply(401, {"Message": "Authorization has been denied for this request."})
        return owner[0]

    def _listing(self, request: Request) -> Reply:
        user = self._signed_in(request)
        if isinstance(user, Reply):
            return user
        if self.throttle > 0:
            self.throttle -= 1
            return Reply(429, {"Message": "Too many requests"}, {"Retry-After": "1"})
        page, limit = _arg(request, "PageNo", "1"), _arg(request, "Limit", "100")
        if not (page.isdigit() and limit.isdigit() and int(page) >= 1):
            return Reply(400, {"Message": "The request is invalid."})
        if not 1 <= int(limit) <= MAX_LIMIT:
            return Reply(400, {"Message": f"Limit must be between 1 and {MAX_LIMIT}"})
        rows = sorted(getattr(self, LISTINGS[request.path]), key=lambda r: r["ID"])
        since = _arg(request, "SinceLastUpdated", "")
        if since and request.path != "/api/Product/Suppliers":
            rows = [r for r in rows if r["LastUpdated"][:19] >= since[:19]]
        start = (int(page) - 1) * int(limit)
        page_rows = [dict(r) for r in rows[start : start + int(limit)]]
        if request.path == "/api/ASN/List" and _arg(request, "IncludeASNItems", "") != "true":
            for row in page_rows:
                row["Items"] = None
        return Reply(200, page_rows)

    def _warehouses(self, request: Request) -> Reply:
        user = self._signed_in(request)
        if isinstance(user, Reply):
            return user
        if not self.users[user].warehouse:
            return Reply(403, {"Message": "Client users cannot access warehouses"})
        return Reply(200, [{"ID": 1, "Name": "Main warehouse"}])


LISTINGS = {
    "/api/ASN/List": "asns",
    "/api/Product/List": "products",
    "/api/Product/Suppliers": "suppliers",
}


def _arg(request: Request, name: str, default: str) -> str:
    return request.query.get(name, [default])[0]
