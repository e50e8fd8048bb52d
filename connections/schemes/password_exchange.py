"""Log in with a username and password to obtain a session, then send it on every request.

Mintsoft answers ``POST /api/Auth {"Username", "Password"}`` with the API key as a JSON string;
later calls send it as ``ms-apikey``. SAP Business One's Service Layer answers ``POST /Login
{"CompanyDB", "UserName", "Password"}`` by setting the ``B1SESSION`` and ``ROUTEID`` cookies
(``cookies`` option), which later calls send back. We store the username and password
(sessions expire) and log in again whenever a session is needed; the proxy keeps a session
for ``token_lifetime`` seconds and logs in again sooner if the system refuses it.

``token_key`` is a dotted path into the answer (UpKeep's ``result.sessionToken``);
``body_format = "form"`` sends the login as a form instead of JSON; ``base_url_key`` names
where the answer gives the API's address (Linnworks' ``Server``), which must be https on
``base_url_domain`` (the vendor's own domain: an answer cannot send us elsewhere).
``login_headers`` adds headers to the login request only, templated from the instance's
non-secret values (eMaint pairs its token with the ``Xt-UserAgent`` it was asked with, so the
same header goes in ``extra_headers`` too).
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from catalog.schema import MethodSpec, template_names
from connections.schemes.base import (
    AuthFailure,
    Authorizer,
    AuthScheme,
    Send,
    StaticAuthorizer,
    Target,
    remote_detail,
)

REFUSED = frozenset({400, 401, 403})
BODY_FORMATS = frozenset({"json", "form"})


class PasswordExchange(AuthScheme):
    name = "password_exchange"
    keeps_session = True
    option_types = {
        "url": str,
        "body": dict,
        "token_key": str,
        "header": str,
        "prefix": str,
        "token_lifetime": int,
        "cookies": list,
        "body_format": str,
        "base_url_key": str,
        "base_url_domain": str,
        "login_headers": dict,
    }
    required_options = frozenset({"url", "body"})

    def needed_fields(self, method: MethodSpec) -> frozenset[str]:
        body = method.options.get("body", {})
        return frozenset().union(*(template_names(str(v)) for v in body.values()))

    def authenticate(
        self, target: Target, credentials: Mapping[str, str], send: Send
    ) -> Authorizer:
        options = target.method.options
        body = {key: str(value).format_map(credentials) for key, value in options["body"].items()}
        url = target.url(options["url"])
        headers = target.filled_headers(_login_headers(target.method))
        if options.get("body_format", "json") == "form":
            response = send(
                "POST", url, data=body, headers={"Accept": "application/json"} | headers
            )
        else:
            response = send("POST", url, json=body, headers=headers)
        if response.status in REFUSED:
            raise AuthFailure("invalid_credentials", remote_detail(response))
        header = _session_header(response, options)
        base_url = _base_url(response, options)
        if not header or base_url is None:
            raise AuthFailure("unexpected_response", remote_detail(response))
        lifetime = options.get("token_lifetime", 3600)
        return StaticAuthorizer(header, expires_in=lifetime, base_url=base_url)

    def check_method(self, method: MethodSpec) -> list[str]:
        problems = super().check_method(method)
        options = method.options
        if "header" not in options and "cookies" not in options:
            problems.append("option 'header' (or 'cookies') is required")
        if options.get("body_format", "json") not in BODY_FORMATS:
            problems.append(f"option 'body_format' must be one of {sorted(BODY_FORMATS)}")
        if ("base_url_key" in options) != ("base_url_domain" in options):
            problems.append("options 'base_url_key' and 'base_url_domain' go together")
        secrets = {spec.name for spec in method.fields if spec.secret}
        used = set().union(*(template_names(str(v)) for v in _login_headers(method).values()))
        problems += [f"login_headers use the secret {name!r}" for name in sorted(used & secrets)]
        return problems

    def templated_names(self, method: MethodSpec) -> set[str]:
        return set().union(*(template_names(str(v)) for v in _login_headers(method).values()))


def _login_headers(method: MethodSpec) -> dict[str, Any]:
    headers = method.options.get("login_headers", {})
    return headers if isinstance(headers, dict) else {}


def _session_header(response: Any, options: dict[str, Any]) -> dict[str, str]:
    if cookie_names := options.get("cookies"):
        if response.status >= 300 or not all(name in response.cookies for name in cookie_names):
            return {}
        return {"Cookie": "; ".join(f"{name}={response.cookies[name]}" for name in cookie_names)}
    token = _token_from(response, options.get("token_key", ""))
    return {options["header"]: options.get("prefix", "") + token} if token else {}


def _token_from(response: Any, token_key: str) -> str:
    token = _answer_at(response, token_key)
    return token if isinstance(token, str) else ""


def _base_url(response: Any, options: dict[str, Any]) -> str | None:
    """The API's address from the answer ("" when the definition fixes it; None when the
    answer lacks it or names a host outside the vendor's domain)."""
    if not (key := options.get("base_url_key")):
        return ""
    found = _answer_at(response, key)
    if not isinstance(found, str):
        return None
    try:
        parts = urlsplit(found.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    domain = options["base_url_domain"].lower()
    if parts.scheme != "https" or not (host == domain or host.endswith("." + domain)):
        return None
    return found.strip().rstrip("/")


def _answer_at(response: Any, dotted: str) -> Any:
    """The value at a dotted path in a 200 JSON answer (the whole answer for "")."""
    if response.status != 200:
        return None
    try:
        found = response.json()
    except ValueError:
        return None
    for part in dotted.split(".") if dotted else ():
        found = found.get(part) if isinstance(found, dict) else None
    return found


scheme = PasswordExchange()
