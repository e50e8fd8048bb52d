"""A simulator of an accounting system whose live check has a twist worth checking end to end:
Wave (one GraphQL endpoint that answers a refused query with 200 and an "errors" list)."""

from __future__ import annotations

import re

from tests.fakes.base import FakeSystem, Reply, Request

# A GraphQL document as Wave's "Clients" page shows one: `query { user { id } }`.
GRAPHQL_QUERY = re.compile(r"^\s*query\s*\{.*\}\s*$", re.DOTALL)


class FakeWave(FakeSystem):
    """``POST /graphql/public`` with a Bearer token and a JSON body ``{"query": ...}``. A token
    in ``tokens`` maps to its scopes; asking for ``businesses`` without ``business:read`` gets
    200 with ``{"data": null, "errors": [...]}``, as GraphQL servers answer."""

    hosts = ("gql.waveapps.com",)

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.tokens: dict[str, set[str]] = {}

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/graphql/public":
            return Reply(404, {"errors": [{"message": "Not found"}]})
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        scopes = self.tokens.get(token) if scheme == "Bearer" else None
        if scopes is None:
            return Reply(401, {"errors": [{"message": "Unauthorized", "code": "UNAUTHENTICATED"}]})
        query = (request.json() or {}).get("query", "")
        if not isinstance(query, str) or not GRAPHQL_QUERY.match(query):
            return Reply(400, {"errors": [{"message": "Syntax Error: Expected Name"}]})
        if "businesses" in query and "business:read" not in scopes:
            refusal = {"message": "You do not have permission to access businesses."}
            return Reply(200, {"data": None, "errors": [refusal]})
        return Reply(200, {"data": {"user": {"id": "VXNlcjox"}, "businesses": {"edges": []}}})
