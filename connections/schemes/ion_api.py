"""Infor's ION API Gateway with a service account (``.ionapi`` credentials file).

The file (``steps/credential_file.py``) gives the token URL (``pu`` + ``ot``), the client id
and secret and the service account's keys. A token is bought with the resource owner
password grant — ``username`` = the access key, ``password`` = the secret key, client id and
secret in the form — and sent as ``Authorization: Bearer`` to ``{iu}/{ti}/…``. Infor SX.e,
M3, LN and CloudSuite Industrial are all reached this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.schemes.base import (
    AuthFailure,
    Authorizer,
    AuthScheme,
    Send,
    StaticAuthorizer,
    Target,
    remote_detail,
)

OAUTH_ERRORS = {"invalid_client", "invalid_grant", "invalid_request"}


class IonApi(AuthScheme):
    name = "ion_api"
    step = "credential_file"
    keeps_session = True
    provided_config = frozenset({"tenant", "app_name", "ion_url", "token_url"})

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        form = {
            "grant_type": "password",
            "username": values["access_key"],
            "password": values["secret_key"],
            "client_id": values["client_id"],
            "client_secret": values["client_secret"],
        }
        response = send("POST", values["token_url"], data=form)
        body: Any = _json(response)
        token = body.get("access_token") if response.status == 200 else None
        if isinstance(token, str) and token:
            expires_in = str(body.get("expires_in", "3600"))
            lifetime = int(expires_in) if expires_in.isdigit() else 3600
            return StaticAuthorizer({"Authorization": f"Bearer {token}"}, expires_in=lifetime)
        error = body.get("error", "")
        code = error if error in OAUTH_ERRORS else "unexpected_response"
        raise AuthFailure(code, remote_detail(response))


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


scheme = IonApi()
