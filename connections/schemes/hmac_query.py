"""Each request signed with an HMAC of its query string (Unleashed).

Unleashed: ``api-auth-signature`` = base64(HMAC-SHA256(key = the API key, message = the query
string after ``?``, or the empty string when there is none)), beside ``api-auth-id`` and a
``client-type``. ``headers`` (templated from the user's values) are sent with every request;
``header`` names the signature's; ``key_field`` the secret it is keyed with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from catalog.schema import MethodSpec, template_names
from connections.schemes.base import Authorizer, AuthScheme, Send, Target


@dataclass(frozen=True)
class QuerySigner:
    header: str
    key: bytes
    static: Mapping[str, str]
    base_url: str = ""

    def headers_for(self, method: str, url: str) -> dict[str, str]:
        digest = hmac.new(self.key, urlsplit(url).query.encode(), hashlib.sha256).digest()
        return {**self.static, self.header: base64.b64encode(digest).decode()}


class HmacQuery(AuthScheme):
    name = "hmac_query"
    option_types = {"header": str, "key_field": str, "headers": dict}
    required_options = frozenset({"header", "key_field"})

    def needed_fields(self, method: MethodSpec) -> frozenset[str]:
        return frozenset({method.options.get("key_field", "api_key")})

    def templated_names(self, method: MethodSpec) -> set[str]:
        headers = method.options.get("headers", {})
        return set().union(*(template_names(str(value)) for value in headers.values()))

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        options = target.method.options
        static = {k: str(v).format_map(values) for k, v in options.get("headers", {}).items()}
        return QuerySigner(options["header"], values[options["key_field"]].encode(), static)


scheme = HmacQuery()
