"""Log in with a username and password to obtain a session, then send it on every request.

Mintsoft answers ``POST /api/Auth {"Username", "Password"}`` with the API key as a JSON string;
later calls send it as ``ms-apikey``. SAP Business One's Service Layer answers ``POST /Login
{"CompanyDB", "UserName", "Password"}`` by setting the ``B1SESSION`` and ``ROUTEID`` cookies
(``cookies`` option), which later calls send back. We store the username and password
(sessions expire) and log in again whenever a session is needed; the proxy keeps a session
for ``token_lifetime`` seconds and logs in again sooner if the system refuses it.
"""

from collections.abc import Mapping
from typing import Any

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
        response = send("POST", target.url(options["url"]), json=body)
        if response.status in REFUSED:
            raise AuthFailure("invalid_credentials", remote_detail(response))
        header = _session_header(response, options)
        if not header:
            raise AuthFailure("unexpected_response", remote_detail(response))
        return StaticAuthorizer(header, expires_in=options.get("token_lifetime", 3600))

    def check_method(self, method: MethodSpec) -> list[str]:
        problems = super().check_method(method)
        if "header" not in method.options and "cookies" not in method.options:
            problems.append("option 'header' (or 'cookies') is required")
        return problems


def _session_header(response: Any, options: dict[str, Any]) -> dict[str, str]:
    if cookie_names := options.get("cookies"):
        if response.status >= 300 or not all(name in response.cookies for name in cookie_names):
            return {}
        return {"Cookie": "; ".join(f"{name}={response.cookies[name]}" for name in cookie_names)}
    token = _token_from(response, options.get("token_key", ""))
    return {options["header"]: options.get("prefix", "") + token} if token else {}


def _token_from(response: Any, token_key: str) -> str:
    if response.status != 200:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    token = body.get(token_key) if token_key and isinstance(body, dict) else body
    return token if isinstance(token, str) else ""


scheme = PasswordExchange()
