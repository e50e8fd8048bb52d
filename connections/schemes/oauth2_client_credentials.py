"""OAuth 2.0 client credentials: an app registered in the customer's tenant signs in as itself.

Business Central and Finance & Operations (through Microsoft Entra ID), IFS Cloud and others
issue a token to ``POST token_url`` (it may name the tenant: ``{tenant_id}``) for
``grant_type=client_credentials`` with the app's id and secret (``client_auth``: ``post``
puts them in the form, ``basic`` in an HTTP Basic header) and ``scope``; the token, sent as
``Authorization: Bearer``, is kept until shortly before ``expires_in``.

``token_format = "json"`` posts the token request as a JSON object instead of a form
(Extensiv 3PL Warehouse Manager's own example does); ``token_params`` adds parameters to it,
templated from the user's values. ``token_headers`` adds headers to the token request only
(CartonCloud's ``Accept-Version: 1``), templated from the instance's non-secret values.
``token_header`` names the header the token is sent in, bare, instead of ``Authorization:
Bearer`` (Shopify's Dev Dashboard apps: ``X-Shopify-Access-Token``).
"""

from __future__ import annotations

import re
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
    basic_header,
    remote_detail,
)

HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")
CLIENT_AUTH = frozenset({"post", "basic"})
TOKEN_FORMATS = frozenset({"form", "json"})
OAUTH_ERRORS = {"invalid_client", "invalid_grant", "invalid_request"}


class OAuth2ClientCredentials(AuthScheme):
    name = "oauth2_client_credentials"
    keeps_session = True
    option_types = {
        "token_url": str,
        "scope": str,
        "client_auth": str,
        "token_params": dict,
        "token_format": str,
        "token_headers": dict,
        "token_header": str,
    }
    required_options = frozenset({"token_url"})
    required_fields = frozenset({"client_id", "client_secret"})

    def templated_names(self, method: MethodSpec) -> set[str]:
        templates = [method.options.get("token_url", ""), method.options.get("scope", "")]
        templates += [str(v) for v in method.options.get("token_params", {}).values()]
        templates += [str(v) for v in _token_headers(method).values()]
        return set().union(*(template_names(t) for t in templates))

    def check_method(self, method: MethodSpec) -> list[str]:
        problems = super().check_method(method)
        if method.options.get("client_auth", "post") not in CLIENT_AUTH:
            problems.append(f"option 'client_auth' must be one of {sorted(CLIENT_AUTH)}")
        if method.options.get("token_format", "form") not in TOKEN_FORMATS:
            problems.append(f"option 'token_format' must be one of {sorted(TOKEN_FORMATS)}")
        return problems + _header_problems(method)

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        return token_request(target, values, send, {"grant_type": "client_credentials"})


def _header_problems(method: MethodSpec) -> list[str]:
    """``token_header`` and ``token_headers`` name real headers; the latter use no secret
    (only the instance's values fill them in)."""
    header, headers = method.options.get("token_header", "Authorization"), _token_headers(method)
    problems = []
    if not HEADER_NAME.fullmatch(str(header)):
        problems.append("option 'token_header' must be a header name")
    problems += [
        f"token_headers: {n!r} is not a header name"
        for n in headers
        if not HEADER_NAME.fullmatch(n)
    ]
    secrets = {spec.name for spec in method.fields if spec.secret}
    used = set().union(*(template_names(str(v)) for v in headers.values()))
    return problems + [f"token_headers use the secret {name!r}" for name in sorted(used & secrets)]


def _token_headers(method: MethodSpec) -> dict[str, Any]:
    headers = method.options.get("token_headers", {})
    return headers if isinstance(headers, dict) else {}


def token_request(
    target: Target, values: Mapping[str, str], send: Send, grant: dict[str, str]
) -> Authorizer:
    """Ask ``token_url`` for a token with ``grant`` (the grant type and its own parameters)."""
    options = target.method.options
    form = dict(grant)
    if scope := options.get("scope"):
        form["scope"] = scope.format_map(values)
    form |= {k: str(v).format_map(values) for k, v in options.get("token_params", {}).items()}
    headers = {
        "Accept": "application/json",
        **target.filled_headers(options.get("token_headers", {})),
    }
    if options.get("client_auth", "post") == "basic":
        headers["Authorization"] = basic_header(values["client_id"], values["client_secret"])
    else:
        form |= {"client_id": values["client_id"], "client_secret": values["client_secret"]}
    url = options["token_url"].format_map(values)
    body = {"json": form} if options.get("token_format", "form") == "json" else {"data": form}
    return _bearer(send("POST", url, headers=headers, **body), options.get("token_header", ""))


def _bearer(response: Any, header: str = "") -> StaticAuthorizer:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    token = body.get("access_token") if response.status == 200 else None
    if isinstance(token, str) and token:
        expires_in = str(body.get("expires_in", "3600"))
        lifetime = int(expires_in) if expires_in.isdigit() else 3600
        sent = {header: token} if header else {"Authorization": f"Bearer {token}"}
        return StaticAuthorizer(sent, expires_in=lifetime)
    error = body.get("error", "")
    code = (
        error
        if error in OAUTH_ERRORS
        else "invalid_client"
        if response.status == 401
        else "unexpected_response"
    )
    raise AuthFailure(code, remote_detail(response))


scheme = OAuth2ClientCredentials()
