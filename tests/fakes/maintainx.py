"""MaintainX (CMMS): one API host, ``Authorization: Bearer <API key>``; users (the live
check) and work orders, listed oldest first in cursor pages (``cursor``, ``limit`` up to
200) as ``{"workOrders": [...], "nextCursor"}``; ``throttle`` answers the next that many
listings 429 with Retry-After (MaintainX's own limits are unverified). Built from public
client code and integration docs (the catalog entry lists what is unverified)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from tests.fakes.base import FakeSystem, Reply, Request

MAX_LIMIT = 200


class FakeMaintainX(FakeSystem):
    hosts = ("api.getmaintainx.com",)

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.work_orders: list[dict[str, Any]] = []
        self.throttle = 0

    def reset(self) -> None:
        super().reset()
        self.keys.clear()
        self.work_orders.clear()
        self.throttle = 0

    def handle(self, request: Request) -> Reply:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or key not in self.keys:
            return Reply(401, {"errors": [{"error": "Unauthorized"}]})
        if request.method != "GET":
            return Reply(404, {"errors": [{"error": "Not found"}]})
        if request.path == "/v1/users":
            return Reply(200, {"users": [{"id": 1, "firstName": "Ada"}], "nextCursor": None})
        if request.path == "/v1/workorders":
            return self._work_orders(request)
        return Reply(404, {"errors": [{"error": "Not found"}]})

    def _work_orders(self, request: Request) -> Reply:
        if self.throttle > 0:
            self.throttle -= 1
            return Reply(429, {"errors": [{"error": "Too Many Requests"}]}, {"Retry-After": "1"})
        limit = request.query.get("limit", ["100"])[0]
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            return Reply(400, {"errors": [{"error": f"limit must be 1 to {MAX_LIMIT}"}]})
        try:
            after = int(base64.b64decode(request.query.get("cursor", ["MA=="])[0]))
        except (binascii.Error, ValueError):
            return Reply(400, {"errors": [{"error": "Invalid cursor"}]})
        rows = sorted(self.work_orders, key=lambda w: w["id"])
        rows = [w for w in rows if w["id"] > after]
        page = rows[: int(limit)]
        more = len(rows) > len(page)
        cursor = base64.b64encode(str(page[-1]["id"]).encode()).decode() if more else None
        return Reply(200, {"workOrders": page, "nextCursor": cursor})
