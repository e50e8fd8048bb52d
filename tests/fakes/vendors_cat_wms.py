"""Simulators for catalog systems added by the warehouse and commerce batch whose sign-in or
address has a twist worth checking end to end: Sellercloud (a JSON login answering a bearer
token, on the team's own server) and WooCommerce (keys in HTTP Basic, on a WordPress site that
may live in a folder)."""

from __future__ import annotations

import secrets

from tests.fakes.base import FakeSystem, Reply, Request
from tests.fakes.oauth import basic_credentials


class FakeSellercloud(FakeSystem):
    """``POST /rest/api/token`` takes JSON ``{"Username", "Password"}`` and answers
    ``{"access_token", "token_type": "Bearer", "expires_in"}`` (Sellercloud's Authentication
    page); a form body is not JSON and is refused. ``GET /rest/api/companies`` wants the token
    as ``Authorization: Bearer`` and answers ``{"Items", "TotalResults"}``."""

    hosts = ("*.api.sellercloud.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.users: dict[str, str] = {}  # username → password
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/rest/api/token":
            return self._token(request)
        if request.method == "GET" and request.path == "/rest/api/companies":
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme != "Bearer" or token not in self.tokens:
                return Reply(401, {"Message": "Not Valid Token"})
            return Reply(200, {"Items": [{"ID": 1, "CompanyName": "Acme"}], "TotalResults": 1})
        return Reply(404, {"Message": "Not Found"})

    def _token(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return Reply(415, {"Message": "Unsupported Media Type"})
        body = request.json() or {}
        known = self.users.get(str(body.get("Username", "")))
        if known is None or not secrets.compare_digest(known, str(body.get("Password", ""))):
            return Reply(400, {"error": "invalid_grant"})
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})


class FakeWooCommerce(FakeSystem):
    """A WordPress site with WooCommerce installed in ``folder`` (``""`` at the root): the
    REST API is under ``{folder}/wp-json/wc/v3``, keys go in HTTP Basic (consumer key as the
    user, secret as the password) and ``GET .../products`` answers a JSON list."""

    hosts = ("store.example",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.folder = ""
        self.keys: dict[str, str] = {}  # consumer key → consumer secret

    def handle(self, request: Request) -> Reply:
        if request.path != f"{self.folder}/wp-json/wc/v3/products":
            return Reply(404, {"code": "rest_no_route", "message": "No route was found."})
        client = basic_credentials(request.headers.get("authorization", ""))
        known = self.keys.get(client[0]) if client else None
        if client is None or known is None or not secrets.compare_digest(known, client[1]):
            return Reply(401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry."})
        return Reply(200, [{"id": 1, "name": "Mug"}])
