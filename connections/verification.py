"""Check a configuration live against its system: reach → sign in → test call → permissions.

``verify`` talks to the system only through ``outbound.request``, reports each step as it
goes, and returns ``None`` when everything passed or the ``Outcome`` of the first failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from catalog.normalizers import with_derived
from catalog.schema import MethodSpec, RequestSpec, SystemDefinition
from connections import outbound
from connections.auth import SCHEMES
from connections.auth.base import AuthFailure, Authorizer, Target, remote_detail
from connections.failures import (
    AUTHENTICATE,
    FAILURES,
    PERMISSIONS,
    REACH,
    TEST_CALL,
    Outcome,
    describe,
)
from connections.outbound import OutboundError, OutboundResponse

RUNNING, DONE, FAILED = "running", "done", "failed"
Report = Callable[[str, str], None]


class _Failed(Exception):
    def __init__(self, code: str, step: str, **details: Any) -> None:
        super().__init__(code)
        self.code, self.step, self.details = code, step, details


class _Probe:
    """Sends requests for a scheme and the checks; remembers whether the host answered."""

    def __init__(self, report: Report) -> None:
        self.reached = False
        self._report = report

    def send(self, method: str, url: str, **kwargs: Any) -> OutboundResponse:
        response = outbound.request(method, url, **kwargs)
        if not self.reached:
            self.reached = True
            self._report(REACH, DONE)
            self._report(AUTHENTICATE, RUNNING)
        return response


def build_target(
    definition: SystemDefinition, method: MethodSpec, config: Mapping[str, str]
) -> Target:
    values = with_derived(definition.fields, dict(config))
    return Target(definition, method, definition.base_url.format_map(values), values)


def verify(target: Target, credentials: Mapping[str, str], report: Report) -> Outcome | None:
    """Run every step; ``report(step, state)`` is called as each starts, passes or fails."""
    probe = _Probe(report)
    host = urlsplit(target.base_url).hostname or ""
    report(REACH, RUNNING)
    try:
        authorizer = _authenticate(target, credentials, probe)
        _run_checks(target, authorizer, probe, report)
    except _Failed as failed:
        report(failed.step, FAILED)
        return describe(
            failed.code,
            host=host,
            advice_overrides={**target.system.messages, **target.method.messages},
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
    report(AUTHENTICATE, DONE)
    report(TEST_CALL, DONE)
    report(PERMISSIONS, RUNNING)
    for spec in others:
        _check(target, authorizer, probe, spec, first=False)
    report(PERMISSIONS, DONE)


def _check(
    target: Target, authorizer: Authorizer, probe: _Probe, spec: RequestSpec, *, first: bool
) -> None:
    url = target.url(spec.path)
    headers = {**spec.headers, **authorizer.headers_for(spec.method, url)}
    step = AUTHENTICATE if first else PERMISSIONS
    try:
        response = probe.send(spec.method, url, headers=headers, json=spec.json or None)
    except OutboundError as exc:
        raise _Failed(exc.code, step if probe.reached else REACH) from None
    if response.status in spec.expect:
        return
    found = SCHEMES[target.method.scheme].interpret(response)
    code = found.code if found else _code_for(response.status, first=first)
    # The first check's failure lands where the catalogue says; later ones are permissions.
    step = FAILURES[code].step if first else PERMISSIONS
    raise _Failed(
        code,
        step,
        status=response.status,
        permission=(found and found.permission) or spec.permission or spec.label,
        detail=(found and found.detail) or remote_detail(response),
    )


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
