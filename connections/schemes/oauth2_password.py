"""OAuth 2.0 resource-owner password grant: an integration's client plus a user's sign-in.

Acumatica (a "Connected Application" with the Resource Owner Password Credentials flow; its
client ID names the tenant, ``…@MyTenant``) and Manhattan Active (an API client created by the
platform administrator, plus an API user) issue a token to ``POST token_url`` for
``grant_type=password`` with ``username``, ``password``, the client's id and secret (in the
form or, ``client_auth = "basic"``, an HTTP Basic header) and ``scope``. The token is sent as
``Authorization: Bearer`` and kept until shortly before ``expires_in``; we store the password
(the grant needs it again when the token expires).
"""

from __future__ import annotations

from collections.abc import Mapping

from connections.schemes.base import AuthFailure, Authorizer, Send, Target
from connections.schemes.oauth2_client_credentials import OAuth2ClientCredentials, token_request


class OAuth2Password(OAuth2ClientCredentials):
    name = "oauth2_password"
    required_fields = frozenset({"client_id", "client_secret", "username", "password"})

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        grant = {
            "grant_type": "password",
            "username": values["username"],
            "password": values["password"],
        }
        try:
            return token_request(target, values, send, grant)
        except AuthFailure as failure:
            if failure.code == "invalid_grant":  # RFC 6749 §5.2: a wrong username or password
                raise AuthFailure("invalid_credentials", failure.detail) from None
            raise


scheme = OAuth2Password()
