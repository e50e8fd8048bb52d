"""Unleashed: every request carries ``api-auth-id`` and ``api-auth-signature``, the base64
HMAC-SHA256 of its query string keyed by that id's API key; a wrong one is a 403."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from tests.fakes.base import FakeSystem, Reply, Request


class FakeUnleashed(FakeSystem):
    hosts = ("api.unleashedsoftware.com",)

    def reset(self) -> None:
        super().reset()
        self.keys: dict[str, str] = {}  # API id → API key

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def handle(self, request: Request) -> Reply:
        key = self.keys.get(request.headers.get("api-auth-id", ""))
        query = urlencode([(k, v) for k, values in request.query.items() for v in values])
        expected = base64.b64encode(
            hmac.new((key or "").encode(), query.encode(), hashlib.sha256).digest()
        ).decode()
        if key is None or not hmac.compare_digest(
            expected, request.headers.get("api-auth-signature", "")
        ):
            return Reply(403, {"description": "Forbidden"})
        if request.path == "/Currencies":
            return Reply(200, {"Items": [{"CurrencyCode": "NZD", "Description": "New Zealand"}]})
        return Reply(404, {"description": "Not found"})
