"""Several headers built from the user's values, sent on every request.

ERPNext: ``Authorization: token {api_key}:{api_secret}``; Odoo 19+: ``Authorization: bearer
{api_key}`` with ``X-Odoo-Database: {database}``; Cin7 Core: an account id and an
application key, each in its own header. Values come from the instance fields and the
credentials alike.
"""

from collections.abc import Mapping

from catalog.schema import MethodSpec, template_names
from connections.schemes.base import Authorizer, AuthScheme, Send, StaticAuthorizer, Target


class HeaderSet(AuthScheme):
    name = "header_set"
    option_types = {"headers": dict}
    required_options = frozenset({"headers"})

    def templated_names(self, method: MethodSpec) -> set[str]:
        headers = method.options.get("headers", {})
        return set().union(*(template_names(str(value)) for value in headers.values()))

    def authenticate(self, target: Target, values: Mapping[str, str], send: Send) -> Authorizer:
        headers = target.method.options["headers"]
        return StaticAuthorizer(
            {name: str(value).format_map(values) for name, value in headers.items()}
        )


scheme = HeaderSet()
