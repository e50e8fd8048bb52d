"""Check a configuration live against its system: reach → sign in → test call → permissions.

``verify`` talks to the system only through an ``outbound.Client`` (one per run, so
connections are reused), reports steps as they finish, says when it is about to wait on the
system again (``waiting``: the moment what was reached is worth showing, so a caller writes
progress once per wait instead of once per step, and nothing at the end, where the result
carries it), and returns ``None`` when everything passed or the ``Outcome`` of the first
failure. A step is running while it is the first one not yet done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from catalog.i18n import translated
from catalog.normalizers import with_derived
from catalog.schema import MethodSpec, RequestSpec, SystemDefinition
from connections.models import StageState
from connections.outbound.client import Client, OutboundResponse
from connections.outbound.errors import OutboundError
from connections.schemes import SCHEMES
from connections.schemes.base import AuthFailure, Authorizer, Target, remote_detail
from connections.verification.failures import (
    AUTHENTICATE,
    FAILURES,
    PERMISSIONS,
    REACH,
    TEST_CALL,
    Outcome,
    describe,
)

DONE, FAILED = StageState.DONE, StageState.FAILED
Report = Callable[[dict[str, str]], None]
Waiting = Callable[[], None]


def _nothing() -> None:
    pass


class _Failed(Exception):
    def __init__(self, code: str, step: str, **details: Any) -> None:
        super().__init__(code)
        self.code, self.step, self.details = code, step, details


class _Probe:
    """Sends requests for a scheme and the checks; remembers whether the host answered."""

    def __init__(self, report: Report, client: Client, waiting: Waiting) -> None:
        self.reached = False
        self._report = report
        self._client = client
        self._waiting = waiting

    def send(self, method: str, url: str, **kwargs: Any) -> OutboundResponse:
        self._waiting()
        response = self._client.request(method, url, **kwargs)
        if not self.reached:
            self.reached = True
            self._report({REACH: DONE})
        return response


def build_target(
    definition: SystemDefinition,
    method: MethodSpec,
    config: Mapping[str, str],
    app_headers: Mapping[str, str] | None = None,
) -> Target:
    """The system as configured; ``app_headers``: the method's, filled from the partner's
    app (``services.oauth.app_headers_for``), sent on every call."""
    values = with_derived(definition.fields, dict(config))
    base_url = definition.base_url.format_map(values)
    return Target(definition, method, base_url, values, dict(app_headers or {}))


def verify(
    target: Target, credentials: Mapping[str, str], report: Report, waiting: Waiting = _nothing
) -> Outcome | None:
    """Run every step; ``report({step: state})`` is called as steps pass or fail, and
    ``waiting()`` just before each request to the system."""
    with Client() as client:
        probe = _Probe(report, client, waiting)
        try:
            authorizer = _authenticate(target, credentials, probe)
            _run_checks(target, authorizer, probe, report)
        except _Failed as failed:
            report({failed.step: FAILED})
            return describe(
                failed.code,
                host=urlsplit(target.base_url).hostname or "",
                system=target.system.name,
                advice_overrides={
                    code: translated(text)
                    for code, text in {**target.system.messages, **target.method.messages}.items()
                },
                step=failed.step,
                **failed.details,
            )
    return None


def _authenticate(target: Target, credentials: Mapping[str, str], probe: _Probe) -> Authorizer:
    scheme = SCHEMES[target.method.scheme]
    values = {**target.config, **credentials}  # e.g. a username is config, its password not
    try:
        return scheme.authenticate(target, values, probe.send)
    except OutboundError as exc:
        raise _Failed(exc.code, AUTHENTICATE if probe.reached else REACH) from None
    except AuthFailure as exc:
        raise _Failed(exc.code, AUTHENTICATE, detail=exc.detail) from None


def _run_checks(target: Target, authorizer: Authorizer, probe: _Probe, report: Report) -> None:
    first, *others = target.system.verify
    _check(target, authorizer, probe, first, first=True)
    report({AUTHENTICATE: DONE, TEST_CALL: DONE})
    for spec in others:
        _check(target, authorizer, probe, spec, first=False)
    report({PERMISSIONS: DONE})


def _check(
    target: Target, authorizer: Authorizer, probe: _Probe, spec: RequestSpec, *, first: bool
) -> None:
    url = target.url(spec.path, base_url=authorizer.base_url)
    headers = {
        **target.filled_headers(spec.headers),
        **target.extra_headers(),
        **authorizer.headers_for(spec.method, url),
    }
    step = AUTHENTICATE if first else PERMISSIONS
    body = render_json(spec.json, target.config) if spec.json else None
    try:
        response = probe.send(spec.method, url, headers=headers, json=body, **auth_of(authorizer))
    except OutboundError as exc:
        raise _Failed(exc.code, step if probe.reached else REACH) from None
    if response.status in spec.expect:
        if not answers_like_the_api(response, spec):
            raise _Failed("not_the_api", TEST_CALL if first else PERMISSIONS)
        if refusal := _refusal_inside(response, spec.error_key):
            permission = translated(spec.permission or spec.label)
            raise _Failed("check_refused", PERMISSIONS, permission=permission, detail=refusal)
        return
    found = SCHEMES[target.method.scheme].interpret(response)
    code = found.code if found else _code_for(response.status, first=first)
    # The first check's failure lands where the catalogue says; later ones are permissions.
    step = FAILURES[code].step if first else PERMISSIONS
    raise _Failed(
        code,
        step,
        status=response.status,
        permission=translated((found and found.permission) or spec.permission or spec.label),
        detail=(found and found.detail) or remote_detail(response),
    )


_TYPED = re.compile(r"^\{(\w+):int\}$")


def auth_of(authorizer: Authorizer) -> dict[str, Any]:
    """A connection-bound sign-in (NTLM) rides on each request as a requests auth object."""
    requests_auth = getattr(authorizer, "requests_auth", None)
    return {"auth": requests_auth()} if requests_auth else {}


def render_json(value: Any, values: Mapping[str, str]) -> Any:
    """A check's JSON body with the user's values in it (``"{field:int}"`` as a number)."""
    if isinstance(value, dict):
        return {key: render_json(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render_json(item, values) for item in value]
    if isinstance(value, str) and (typed := _TYPED.match(value)):
        text = values.get(typed.group(1), "")
        return int(text) if text.isdigit() else text
    return value.format_map(values) if isinstance(value, str) else value


def _refusal_inside(response: OutboundResponse, error_key: str) -> str:
    if not error_key:
        return ""
    found: Any = response.json()
    for part in error_key.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return " ".join(str(found).split())[:200] if found else ""


def answers_like_the_api(response: OutboundResponse, spec: RequestSpec) -> bool:
    """Whether a good status also comes with the answer the definition describes: its
    content type, and (``expect_key``) a JSON object with that key, or ``[]`` a JSON list.
    A login page or a parked domain answers 200 too."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    json_family = spec.expect_type == "application/json" and content_type.endswith("+json")
    if spec.expect_type and content_type != spec.expect_type and not json_family:
        return False
    if not spec.expect_key:
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    if spec.expect_key == "[]":
        return isinstance(body, list)
    return isinstance(body, dict) and spec.expect_key in body


def _code_for(status: int, *, first: bool) -> str:
    if 300 <= status < 400:
        return "redirected"
    if status == 401:
        return "invalid_credentials" if first else "forbidden"
    if status == 403:
        return "forbidden"
    if status in (404, 405, 410):
        return "not_found"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "unexpected_response"
