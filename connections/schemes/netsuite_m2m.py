"""NetSuite OAuth 2.0 client credentials (machine to machine) with a certificate.

Each access token is bought with a short-lived JWT signed by the customer's private key:
header ``{typ: JWT, alg, kid: <certificate id>}``, claims ``{iss: <client id>, scope, aud:
<token URL>, iat, exp, jti}``. There is no refresh token; we ask again whenever we need one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from connections.outbound.client import OutboundResponse
from connections.schemes import netsuite
from connections.schemes.base import (
    AuthFailure,
    Authorizer,
    AuthScheme,
    Interpretation,
    Send,
    StaticAuthorizer,
    Target,
    remote_detail,
)
from connections.security.certificates import jwt_algorithm, load_private_key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # seconds; NetSuite allows up to an hour
OAUTH_ERRORS = {"invalid_client", "invalid_grant", "invalid_request"}


class NetSuiteM2M(AuthScheme):
    name = "netsuite_m2m"
    keeps_session = True
    step = "certificate"  # the private key joins the credentials as ``private_key``
    option_types = {"scope": str}
    required_fields = frozenset({"client_id", "certificate_id"})

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        token_url = target.url(netsuite.TOKEN_PATH)
        scope = target.method.options.get("scope", "rest_webservices")
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(values, token_url, scope),
        }
        response = send("POST", token_url, data=form)
        token, expires_in = _access_token(response)
        if token:
            return StaticAuthorizer({"Authorization": f"Bearer {token}"}, expires_in=expires_in)
        raise AuthFailure(_refusal(response), remote_detail(response))

    def interpret(self, response: OutboundResponse) -> Interpretation | None:
        return netsuite.interpret(response)


def client_assertion(values: Mapping[str, str], token_url: str, scope: str) -> str:
    """The signed JWT NetSuite's token endpoint expects as ``client_assertion``."""
    private_key = load_private_key(values["private_key"])
    algorithm = jwt_algorithm(private_key)
    key_class = RSAKey if algorithm.startswith("PS") else ECKey
    issued = int(netsuite._now())
    header = {"typ": "JWT", "alg": algorithm, "kid": values["certificate_id"]}
    claims = {
        "iss": values["client_id"],
        "scope": scope,
        "aud": token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        header, claims, key_class.import_key(values["private_key"]), algorithms=[algorithm]
    )


def _access_token(response: OutboundResponse) -> tuple[str, int]:
    """The access token and its lifetime (NetSuite sends ``expires_in`` as a number or a
    string; 3600 when absent)."""
    if response.status != 200:
        return "", 0
    try:
        body: Any = response.json()
    except ValueError:
        return "", 0
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        return "", 0
    expires_in = str(body.get("expires_in", "3600"))
    return token, int(expires_in) if expires_in.isdigit() else 3600


def _refusal(response: OutboundResponse) -> str:
    if netsuite.clock_skewed(response):
        return "clock_skew"
    try:
        error = response.json().get("error", "")
    except (ValueError, AttributeError):
        error = ""
    if error in OAUTH_ERRORS:
        return error
    return "invalid_client" if response.status == 401 else "unexpected_response"


scheme = NetSuiteM2M()
