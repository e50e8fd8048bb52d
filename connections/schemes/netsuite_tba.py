"""NetSuite Token-Based Authentication: OAuth 1.0a signatures with HMAC-SHA256.

Every request carries its own signature over method, URL and query (RFC 5849) with the
``realm`` set to the account id in NetSuite's uppercase ``1234567_SB1`` form. JSON bodies
are not signed (no ``oauth_body_hash``), as NetSuite's own examples do.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from connections.outbound.client import OutboundResponse
from connections.schemes import netsuite
from connections.schemes.base import Authorizer, AuthScheme, Interpretation, Send, Target


@dataclass(frozen=True)
class TokenSigner:
    realm: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str
    base_url: str = ""

    def headers_for(self, method: str, url: str) -> dict[str, str]:
        client = Client(
            self.consumer_key,
            client_secret=self.consumer_secret,
            resource_owner_key=self.token_id,
            resource_owner_secret=self.token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            realm=self.realm,
            timestamp=str(int(netsuite._now())),
            nonce=secrets.token_hex(16),
        )
        _, headers, _ = client.sign(url, http_method=method)
        return {"Authorization": headers["Authorization"]}


class NetSuiteTBA(AuthScheme):
    name = "netsuite_tba"
    required_fields = frozenset({"consumer_key", "consumer_secret", "token_id", "token_secret"})

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        # Nothing to exchange: the first signed call (the SuiteQL check) proves the tokens.
        return TokenSigner(
            realm=values["account"],
            consumer_key=values["consumer_key"],
            consumer_secret=values["consumer_secret"],
            token_id=values["token_id"],
            token_secret=values["token_secret"],
        )

    def interpret(self, response: OutboundResponse) -> Interpretation | None:
        return netsuite.interpret(response)


scheme = NetSuiteTBA()
