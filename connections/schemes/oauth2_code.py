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
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.schema import MethodSpec
from connections.schemes.base import Authorizer, AuthScheme, Send, StaticAuthorizer, Target


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
    }
    required_options = frozenset({"authorize_url", "token_url", "scope"})
    provided_config = frozenset({"tenant_id", "tenant_name", "realmId"})

    def check_method(self, method: MethodSpec) -> list[str]:
        problems = super().check_method(method)
        options = method.options
        if options.get("client_auth", "basic") not in ("basic", "post"):
            problems.append("option 'client_auth' must be 'basic' or 'post'")
        if options.get("revoke_format", "form") not in ("form", "json"):
            problems.append("option 'revoke_format' must be 'form' or 'json'")
        return problems

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        headers = {"Authorization": f"Bearer {values['access_token']}"}
        if header := target.method.options.get("tenant_header"):
            headers[header] = values.get("tenant_id", "")
        return StaticAuthorizer(headers)


scheme = OAuth2AuthorizationCode()
