"""An API key sent in a header on every request (Infoplus ``API-Key``, Maximo ``apikey``)."""

from collections.abc import Mapping

from catalog.schema import MethodSpec
from connections.schemes.base import Authorizer, AuthScheme, Send, StaticAuthorizer, Target


class ApiKey(AuthScheme):
    name = "api_key"
    option_types = {"header": str, "prefix": str, "field": str}
    required_options = frozenset({"header"})

    def needed_fields(self, method: MethodSpec) -> frozenset[str]:
        return frozenset({method.options.get("field", "api_key")})

    def authenticate(
        self, target: Target, credentials: Mapping[str, str], send: Send
    ) -> Authorizer:
        options = target.method.options
        key = credentials[options.get("field", "api_key")]
        return StaticAuthorizer({options["header"]: options.get("prefix", "") + key})


scheme = ApiKey()
