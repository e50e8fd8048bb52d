"""What every auth scheme provides, and what the validation runner gives it.

A scheme turns a method's options and the user's credentials into an ``Authorizer`` (the
headers for each request), talking to the remote system if it must (token exchanges). It
reports a refusal by raising ``AuthFailure`` with a failure code from ``failures.py``.

Every scheme also takes ``extra_headers``: headers sent on each request to the system (the
live checks and proxied calls, not the sign-in), templated from the instance's non-secret
values (``{"x-myobapi-version" = "v2"}``, ``{"X-Company" = "{company}"}``).

And ``app_headers``: headers that carry the integrator's own app key beside the customer's
credential (Visma e-conomic's ``X-AppSecretToken``, ServiceTitan's ``ST-App-Key``), templated
only from the partner's registered app for the system: ``{app_id}`` (its client id) and
``{app_secret}`` (its client secret). The customer is never asked for them; a method with
``app_headers`` is offered only once the partner has registered its app
(``PUT /oauth-apps/{system}``, like an OAuth client), and the headers go on the live checks,
health checks, proxied calls and syncs, never on the sign-in.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from catalog.schema import MethodSpec, SystemDefinition
from connections.outbound.client import OutboundResponse

DETAIL_MAX = 200
# Options every scheme takes, beside its own.
COMMON_OPTIONS: Mapping[str, type] = {"extra_headers": dict, "app_headers": dict}
# What ``app_headers`` may use: the partner's app for the system, nothing of the customer's.
APP_VALUES = frozenset({"app_id", "app_secret"})


class AuthFailure(Exception):
    """The system refused to authenticate us. ``detail`` is the remote text, truncated."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


class Send(Protocol):
    def __call__(self, method: str, url: str, **kwargs: Any) -> OutboundResponse: ...


class Authorizer(Protocol):
    base_url: str  # "" unless the sign-in named the API's address

    def headers_for(self, method: str, url: str) -> dict[str, str]: ...


@dataclass(frozen=True)
class StaticAuthorizer:
    """The same headers on every request (API keys, Basic, bearer tokens).

    ``expires_in`` (seconds) is set when the headers hold a session bought from the remote
    (a token exchange): the proxy may keep them that long instead of buying another.
    """

    headers: Mapping[str, str]
    expires_in: int = 0
    # The API's address when the sign-in answer names it (Linnworks' ``Server``): requests
    # go there instead of the definition's ``base_url``.
    base_url: str = ""

    def headers_for(self, method: str, url: str) -> dict[str, str]:
        return dict(self.headers)


@dataclass(frozen=True)
class Target:
    """The system being connected, as configured by the user (no secrets of the customer's).

    ``app_headers`` are the method's ``app_headers`` already filled from the partner's app
    (they may hold its secret: kept out of ``repr``, so out of logs and tracebacks)."""

    system: SystemDefinition
    method: MethodSpec
    base_url: str
    config: Mapping[str, str]
    app_headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    def url(
        self, path_or_url: str, values: Mapping[str, str] | None = None, base_url: str = ""
    ) -> str:
        rendered = path_or_url.format_map({**self.config, **(values or {})})
        if rendered.startswith("https://"):
            return rendered
        return (base_url or self.base_url).rstrip("/") + "/" + rendered.lstrip("/")

    def extra_headers(self) -> dict[str, str]:
        """The method's ``extra_headers`` with the instance's values in them, and its
        ``app_headers`` (the partner's app key), for every call to the system."""
        filled = self.filled_headers(self.method.options.get("extra_headers", {}))
        return {**filled, **self.app_headers}

    def filled_headers(self, templates: Mapping[str, Any]) -> dict[str, str]:
        """Header templates filled with the instance's values; a header whose value comes out
        empty (an optional field left blank: LN's company) is not sent at all."""
        values = defaultdict(str, self.config)
        filled = {name: str(value).format_map(values).strip() for name, value in templates.items()}
        return {name: value for name, value in filled.items() if value}


@dataclass(frozen=True)
class Interpretation:
    """What a system-specific error body means: a failure code, its detail, a permission."""

    code: str
    detail: str = ""
    permission: str = ""


class AuthScheme:
    """Base for schemes: declares its options and the credential fields it needs."""

    name: ClassVar[str]
    option_types: ClassVar[Mapping[str, type]] = {}
    required_options: ClassVar[frozenset[str]] = frozenset()
    required_fields: ClassVar[frozenset[str]] = frozenset()
    # The extra flow step this scheme needs, by name (``connections/steps``), if any.
    step: ClassVar[str] = ""
    # ``authenticate`` buys a session from the remote (a token exchange) worth keeping.
    keeps_session: ClassVar[bool] = False
    # Its credentials expire and are refreshed (``services/oauth.py``) before each use.
    refreshes: ClassVar[bool] = False
    # Config values the scheme's step provides (usable as ``{placeholders}``, not typed in).
    provided_config: ClassVar[frozenset[str]] = frozenset()

    def interpret(self, response: OutboundResponse) -> Interpretation | None:
        """A system's own reading of an error response; None leaves it to the status code."""
        return None

    def check_method(self, method: MethodSpec) -> list[str]:
        """Problems with how a definition uses this scheme (empty when fine)."""
        option_types = {**COMMON_OPTIONS, **self.option_types}
        problems = [f"unknown option {key!r}" for key in method.options if key not in option_types]
        problems += [
            f"option {key!r} is required"
            for key in self.required_options
            if key not in method.options
        ]
        problems += [
            f"option {key!r} must be a {option_types[key].__name__}"
            for key, value in method.options.items()
            if key in option_types and not isinstance(value, option_types[key])
        ]
        names = {spec.name for spec in method.fields}
        problems += [
            f"field {name!r} is required"
            for name in self.needed_fields(method)
            if name not in names
        ]
        return problems

    def needed_fields(self, method: MethodSpec) -> frozenset[str]:
        return self.required_fields

    def provided_names(self, method: MethodSpec) -> frozenset[str]:
        """Config values this method's step provides (usable as ``{placeholders}``)."""
        return self.provided_config

    def templated_names(self, method: MethodSpec) -> set[str]:
        """Field names the method's options use as ``{placeholders}`` (any field will do)."""
        return set()

    def authenticate(
        self, target: Target, credentials: Mapping[str, str], send: Send
    ) -> Authorizer:
        raise NotImplementedError


def uses_app(method: MethodSpec) -> bool:
    """Whether the method sends the integrator's app key (``app_headers``) on each call."""
    return bool(method.options.get("app_headers"))


def app_headers(method: MethodSpec, app_id: str, app_secret: str) -> dict[str, str]:
    """The method's ``app_headers`` filled from the partner's app for the system."""
    values = defaultdict(str, {"app_id": app_id, "app_secret": app_secret})
    templates = method.options.get("app_headers", {})
    return {name: str(value).format_map(values) for name, value in templates.items()}


def basic_header(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def remote_detail(response: OutboundResponse) -> str:
    """A short human message from a remote error body, for showing (escaped) to the user."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    message = _message_in(body)
    return " ".join(message.split())[:DETAIL_MAX]


def _message_in(body: Any) -> str:
    if isinstance(body, str):
        return "" if body.lstrip().startswith("<") else body
    if isinstance(body, list) and body:
        return _message_in(body[0])
    if isinstance(body, dict):
        for key in ("error_description", "message", "Message", "detail", "title", "error"):
            if body.get(key):
                return _message_in(body[key])
        for value in body.values():
            if isinstance(value, (list, dict)) and (found := _message_in(value)):
                return found
    return ""
