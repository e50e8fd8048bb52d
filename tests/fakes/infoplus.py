"""Infoplus Commerce: per-site hosts, an ``API-Key`` header per user; lines of business (the
live check), purchase orders, vendors and items through the v3.0 search endpoints, which
answer a JSON array,
take ``page`` (from 1) and ``limit`` (at most 250), a ``filter`` expression
(``modifyDate ge '2026-01-01T00:00:00Z'``) and a ``sort``, and answer 429 over the rate limit.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fakes.base import FakeSystem, Reply, Request

API = "/infoplus-wms/api/v3.0"
MAX_LIMIT = 250
MODIFIED_SINCE = re.compile(r"^modifyDate ge '([0-9TZ:.+-]+)'$")


class FakeInfoplus(FakeSystem):
    hosts = ("*.infopluswms.com",)

    def __init__(self) -> None:
        super().__init__()
        self.sites: dict[str, set[str]] = {}  # site → valid API keys
        self.read_only_keys: set[str] = set()  # keys whose user cannot read lines of business
        self.purchase_orders: list[dict[str, Any]] = []
        self.vendors: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self.throttle = 0  # the next this many searches answer 429
        self.stall: dict[int, float] = {}  # page → seconds its search waits before answering

    def reset(self) -> None:
        super().reset()
        self.sites.clear()
        self.read_only_keys.clear()
        self.purchase_orders.clear()
        self.vendors.clear()
        self.items.clear()
        self.throttle = 0
        self.stall.clear()

    def handle(self, request: Request) -> Reply:
        site = request.host.removesuffix(".infopluswms.com")
        if site not in self.sites or request.method != "GET":
            return Reply(404, {"message": "Not Found"})
        key = request.headers.get("api-key", "")
        searches = {
            f"{API}/purchaseOrder/search": self.purchase_orders,
            f"{API}/vendor/search": self.vendors,
            f"{API}/item/search": self.items,
        }
        if request.path not in (f"{API}/lineOfBusiness/search", *searches):
            return Reply(404, {"message": "Not Found"})
        if key not in self.sites[site]:
            return Reply(401, {"message": "Invalid API Key"})
        if request.path in searches:
            return self._search(searches[request.path], request)
        if key in self.read_only_keys:
            return Reply(403, {"message": "Access denied to LineOfBusiness"})
        limit = request.query.get("limit", ["20"])[0]
        if not limit.isdigit():
            return Reply(400, {"message": "limit must be numeric"})
        return Reply(200, [{"id": 1, "name": "Main"}][: int(limit)])

    def _search(self, records: list[dict[str, Any]], request: Request) -> Reply:
        if self.throttle > 0:
            self.throttle -= 1
            return Reply(429, {"message": "Rate limit exceeded"}, {"Retry-After": "1"})
        page, limit = request.query.get("page", ["1"])[0], request.query.get("limit", ["20"])[0]
        if not (page.isdigit() and limit.isdigit() and int(page) >= 1):
            return Reply(400, {"message": "page and limit must be numeric"})
        if int(limit) > MAX_LIMIT:
            return Reply(400, {"message": f"limit may be at most {MAX_LIMIT}"})
        order = request.query.get("sort", ["id"])[0]
        if order not in ("id", "modifyDate"):
            return Reply(400, {"message": "Invalid sort"})
        rows = sorted(records, key=lambda o: (o[order], o["id"]))
        if expression := request.query.get("filter", [""])[0]:
            if not (match := MODIFIED_SINCE.match(expression)):
                return Reply(400, {"message": "Invalid filter"})
            rows = [o for o in rows if o["modifyDate"] >= match.group(1)]
        time.sleep(self.stall.get(int(page), 0))
        start = (int(page) - 1) * int(limit)
        return Reply(200, rows[start : start + int(limit)])
