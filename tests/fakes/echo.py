"""A catch-all stand-in for any catalog system, to prove each definition is consistent: it
answers the sign-in a method's scheme makes and each live check the way the definition says
a good answer looks, and records what it was sent. Configured per definition and method."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from catalog.normalizers import with_derived
from catalog.schema import MethodSpec, RequestSpec, SystemDefinition
from tests.fakes.base import FakeSystem, Reply, Request


class FakeEcho(FakeSystem):
    hosts = ()  # reached through a "*" host map entry, only in the catalog test

    def reset(self) -> None:
        super().reset()
        self.login_paths: set[str] = set()
        self.login_answer: Reply = Reply(200, {"access_token": "token-1", "expires_in": 3600})
        self.checks: dict[str, RequestSpec] = {}
        self.refuse: str = ""  # a check path to answer 403

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def expect(self, definition: SystemDefinition, method: MethodSpec, values: dict) -> None:
        self.reset()
        values = with_derived(definition.fields, values)
        options = method.options
        for key in ("url", "token_url"):
            if options.get(key):
                self.login_paths.add(urlsplit(_absolute(options[key], values)).path)
        if method.scheme == "password_exchange":
            self.login_answer = _login_answer(options)
        if method.scheme == "netsuite_m2m":
            self.login_paths.add("/services/rest/auth/oauth2/v1/token")
        if method.scheme == "ion_api":
            self.login_paths.add(urlsplit(values["token_url"]).path)
        for spec in definition.verify:
            self.checks[urlsplit(spec.path.format_map(values)).path] = spec

    def is_login(self, path: str) -> bool:
        return any(path.endswith(login) for login in self.login_paths)

    def handle(self, request: Request) -> Reply:
        if self.is_login(request.path):
            return self.login_answer
        spec = next((s for p, s in self.checks.items() if request.path.endswith(p)), None)
        if spec is None:
            return Reply(404, {"message": f"no check at {request.path}"})
        if self.refuse and request.path.endswith(self.refuse):
            return Reply(403, {"message": "Forbidden"})
        return Reply(spec.expect[0], _good_body(spec))


def _absolute(url: str, values: dict) -> str:
    return url.format_map({**values, "public_url": "https://onramp.test"})


def _login_answer(options: dict[str, Any]) -> Reply:
    if cookies := options.get("cookies"):
        return Reply(
            200, {"SessionId": "s"}, {"Set-Cookie": [f"{name}=v-{name}" for name in cookies]}
        )
    body: Any = "token-1"
    if key := options.get("token_key"):
        body = _nested(key, "token-1")
    if key := options.get("base_url_key"):
        body = {**body, **_nested(key, api_url(options))}
    return Reply(200, body)


def api_url(options: dict[str, Any]) -> str:
    """Where a login answer that names the API's address sends the checks."""
    return f"https://api-eu.{options['base_url_domain']}"


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    for part in reversed(dotted.split(".")):
        value = {part: value}
    return value


def _good_body(spec: RequestSpec) -> Any:
    if spec.expect_key == "[]":
        return [{"id": 1}]
    if spec.expect_key:
        return {spec.expect_key: [{"id": 1}]}
    return {"ok": True}
