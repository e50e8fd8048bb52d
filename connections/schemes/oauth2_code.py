"""OAuth 2.0 authorization code with PKCE: the customer signs in to their system and consents.

The end user meets the partner's own OAuth app (white-label) through Onramp's one redirect
URI (``/oauth/callback/``). The flow's ``oauth_sign_in`` step sends them to ``authorize_url``
(in a popup from the iframe, or a full redirect on a hosted page) with a ``state`` and a PKCE
S256 challenge bound to the link session server-side; the callback trades the code at
``token_url``. The access token (sent as ``Authorization: Bearer``) and the refresh token are
the connection's credentials; ``services/oauth.py`` refreshes them before they expire.

Options: ``authorize_url`` (may use ``{public_url}`` and the instance fields), ``token_url``,
``scope``, ``revoke_url``, ``client_auth`` (``basic`` or ``post``), ``revoke_format``
(``form`` or ``json``), ``callback_params`` (query parameters of the callback to keep as
config, e.g. QuickBooks' ``realmId``), ``tenants_url`` (a list of the tenants consented to,
e.g. Xero's ``/connections``: the first one's ``tenant_id_key`` is kept as ``tenant_id``),
``tenant_header`` (the header that names the tenant on each request).

Where the provider depends on the customer's region: ``authorize_url``, ``token_url`` and
``revoke_url`` may use the instance fields (``https://accounts.{zoho_domain}/oauth/v2/token``,
the field's pattern listing the allowed values); ``token_answer_config`` keeps values of the
token answer as config, each only when it matches its pattern (Zoho's ``api_domain``, which
``base_url`` can then use); ``client_id_header`` sends the partner's client id in that header
on every call (MYOB's ``x-myobapi-key``).

``token_format = "json"`` posts the code exchange and the refresh as a JSON object instead of a
form; ``token_headers`` adds headers to those token requests, templated from the instance's
values and ``{contact_email}`` (the ``ONRAMP_CONTACT_EMAIL`` setting: Fakturoid wants a
``User-Agent`` naming the app and a contact). A method whose ``token_headers`` or
``extra_headers`` use ``{contact_email}`` keeps it as config at sign-in, so the API calls can
send the same header.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from catalog.schema import MethodSpec, template_names
from connections.schemes.base import Authorizer, AuthScheme, Send, StaticAuthorizer, Target

URL_OPTIONS = ("authorize_url", "token_url", "revoke_url")
CONTACT = "contact_email"


class AnswerRefused(ValueError):
    """A token answer lacks a value the definition keeps, or has one it does not allow."""


class OAuth2AuthorizationCode(AuthScheme):
    name = "oauth2_code"
    step = "oauth_sign_in"
    refreshes = True
    option_types = {
        "authorize_url": str,
        "token_url": str,
        "scope": str,
        "revoke_url": str,
        "client_auth": str,
        "revoke_format": str,
        "callback_params": list,
        "tenants_url": str,
        "tenant_id_key": str,
        "tenant_name_key": str,
        "tenant_header": str,
        "authorize_params": dict,
        "token_answer_config": dict,
        "client_id_header": str,
        "token_format": str,
        "token_headers": dict,
    }
    required_options = frozenset({"authorize_url", "token_url", "scope"})
    provided_config = frozenset({"tenant_id", "tenant_name", "realmId"})

    def check_method(self, method: MethodSpec) -> list[str]:
        problems = super().check_method(method)
        options = method.options
        if options.get("client_auth", "basic") not in ("basic", "post"):
            problems.append("option 'client_auth' must be 'basic' or 'post'")
        for key in ("revoke_format", "token_format"):
            if options.get(key, "form") not in ("form", "json"):
                problems.append(f"option {key!r} must be 'form' or 'json'")
        for name, pattern in options.get("token_answer_config", {}).items():
            problems += _pattern_problems(name, pattern)
        return problems

    def templated_names(self, method: MethodSpec) -> set[str]:
        urls = [str(method.options.get(key, "")) for key in URL_OPTIONS]
        urls += [str(value) for value in _headers(method, "token_headers").values()]
        return set().union(*(template_names(url) for url in urls)) - {"public_url", CONTACT}

    def provided_names(self, method: MethodSpec) -> frozenset[str]:
        options = method.options
        names = set(options.get("callback_params", []))
        names |= set(options.get("token_answer_config", {}))
        if options.get("client_id_header"):
            names.add("oauth_client_id")
        if uses_contact(method):
            names.add(CONTACT)
        return self.provided_config | names

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        options = target.method.options
        headers = {"Authorization": f"Bearer {values['access_token']}"}
        if header := options.get("tenant_header"):
            headers[header] = values.get("tenant_id", "")
        if header := options.get("client_id_header"):
            headers[header] = values.get("oauth_client_id", "")
        return StaticAuthorizer(headers)


def token_url(method: MethodSpec, config: Mapping[str, str]) -> str:
    """The token endpoint, for the customer's region when it depends on their values."""
    return method.options["token_url"].format_map(config)


def uses_contact(method: MethodSpec) -> bool:
    """Whether the method's headers name Onramp's contact (``{contact_email}``)."""
    values = [
        *_headers(method, "token_headers").values(),
        *_headers(method, "extra_headers").values(),
    ]
    return any(CONTACT in template_names(str(value)) for value in values)


def token_headers(method: MethodSpec, config: Mapping[str, str], contact: str) -> dict[str, str]:
    """The method's ``token_headers`` with the instance's values and Onramp's contact."""
    values = defaultdict(str, {**config, CONTACT: contact})
    templates = _headers(method, "token_headers")
    return {name: str(value).format_map(values).strip() for name, value in templates.items()}


def _headers(method: MethodSpec, option: str) -> dict[str, Any]:
    headers = method.options.get(option, {})
    return headers if isinstance(headers, dict) else {}  # check_method reports the rest


def answer_config(method: MethodSpec, answer: Any) -> dict[str, str]:
    """The values of the token answer the definition keeps as config (``token_answer_config``),
    each checked against its pattern; raise ``AnswerRefused`` when one is missing or wrong."""
    kept = {}
    for name, pattern in method.options.get("token_answer_config", {}).items():
        value = answer.get(name) if isinstance(answer, dict) else None
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise AnswerRefused(f"the token answer has no usable {name!r}")
        kept[name] = value
    return kept


def _pattern_problems(name: str, pattern: Any) -> list[str]:
    if not isinstance(pattern, str):
        return [f"token_answer_config {name!r} must be a pattern"]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"token_answer_config {name!r}: bad pattern: {exc}"]
    return []


scheme = OAuth2AuthorizationCode()
