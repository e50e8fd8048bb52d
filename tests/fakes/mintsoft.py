"""Mintsoft: username + password → an API key (a JSON string) that expires; ``ms-apikey``."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from tests.fakes.base import FakeSystem, Reply, Request

KEY_LIFETIME = 24 * 3600


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

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, MintsoftUser] = {}
        self.keys: dict[str, tuple[str, float]] = {}  # key → (username, expires at)
        self.now = time.time

    def handle(self, request: Request) -> Reply:
        if request.host != "api.mintsoft.co.uk":
            return Reply(404, {"Message": "Not found"})
        if request.path == "/api/Auth" and request.method == "POST":
            return self._auth(request)
        if request.path == "/api/Warehouse" and request.method == "GET":
            return self._warehouses(request)
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

    def _warehouses(self, request: Request) -> Reply:
        if "APIKey" in request.query:
            return Reply(401, {"Message": "API keys in the query string are no longer accepted"})
        owner = self.keys.get(request.headers.get("ms-apikey", ""))
        if owner is None or owner[1] < self.now():
            return Reply(401, {"Message": "Authorization has been denied for this request."})
        if not self.users[owner[0]].warehouse:
            return Reply(403, {"Message": "Client users cannot access warehouses"})
        return Reply(200, [{"ID": 1, "Name": "Main warehouse"}])
