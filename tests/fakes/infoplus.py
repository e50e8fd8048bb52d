"""Infoplus Commerce: per-site hosts, an ``API-Key`` header per user."""

from __future__ import annotations

from tests.fakes.base import FakeSystem, Reply, Request

API = "/infoplus-wms/api/v3.0"


class FakeInfoplus(FakeSystem):
    hosts = ("*.infopluswms.com",)

    def __init__(self) -> None:
        super().__init__()
        self.sites: dict[str, set[str]] = {}  # site → valid API keys
        self.read_only_keys: set[str] = set()  # keys whose user cannot read lines of business

    def reset(self) -> None:
        super().reset()
        self.sites.clear()
        self.read_only_keys.clear()

    def handle(self, request: Request) -> Reply:
        site = request.host.removesuffix(".infopluswms.com")
        if site not in self.sites:
            return Reply(404, {"message": "Not Found"})
        if request.path != f"{API}/lineOfBusiness/search" or request.method != "GET":
            return Reply(404, {"message": "Not Found"})
        key = request.headers.get("api-key", "")
        if key not in self.sites[site]:
            return Reply(401, {"message": "Invalid API Key"})
        if key in self.read_only_keys:
            return Reply(403, {"message": "Access denied to LineOfBusiness"})
        limit = request.query.get("limit", ["20"])[0]
        if not limit.isdigit():
            return Reply(400, {"message": "limit must be numeric"})
        return Reply(200, [{"id": 1, "name": "Main"}][: int(limit)])
