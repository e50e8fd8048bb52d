"""Log in with a username and password to obtain an API key, then send it in a header.

Mintsoft works this way: ``POST /api/Auth {"Username", "Password"}`` answers the key as a
JSON string, and later calls send it as ``ms-apikey``. We store the username and password
(keys expire) and log in again whenever a key is needed; the proxy keeps a key for
``token_lifetime`` seconds (option) and logs in again sooner if the system refuses it.
"""

from collections.abc import Mapping
from typing import Any

from catalog.schema import MethodSpec, template_names
from connections.auth.base import (
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
    }
    required_options = frozenset({"url", "body", "header"})

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
        token = _token_from(response, options.get("token_key", ""))
        if not token:
            raise AuthFailure("unexpected_response", remote_detail(response))
        header = {options["header"]: options.get("prefix", "") + token}
        return StaticAuthorizer(header, expires_in=options.get("token_lifetime", 3600))


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
