"""HTTP Basic authentication on every request.

By default the user's ``username`` and ``password`` (``credentials = "username_password"``).
Some systems issue one API key used in the Basic header instead:
``credentials = "key_as_username"`` sends the ``api_key`` field as the username with an empty
password (``base64("key:")``: EasyPost); ``credentials = "key_alone"`` sends the key alone,
base64-encoded, as the Basic value (``base64("key")``, no colon: Azuga's legacy API keys).
"""

import base64
from collections.abc import Mapping

from catalog.schema import MethodSpec
from connections.schemes.base import (
    Authorizer,
    AuthScheme,
    Send,
    StaticAuthorizer,
    Target,
    basic_header,
)

LAYOUTS = frozenset({"username_password", "key_as_username", "key_alone"})


class Basic(AuthScheme):
    name = "basic"
    option_types = {"credentials": str}
    required_fields = frozenset({"username", "password"})

    def needed_fields(self, method: MethodSpec) -> frozenset[str]:
        if _layout(method) == "username_password":
            return self.required_fields
        return frozenset({"api_key"})

    def check_method(self, method: MethodSpec) -> list[str]:
        problems = super().check_method(method)
        if _layout(method) not in LAYOUTS:
            problems.append(f"option 'credentials' must be one of {sorted(LAYOUTS)}")
        return problems

    def authenticate(
        self, target: Target, credentials: Mapping[str, str], send: Send
    ) -> Authorizer:
        layout = _layout(target.method)
        if layout == "key_alone":
            header = "Basic " + base64.b64encode(credentials["api_key"].encode()).decode()
        elif layout == "key_as_username":
            header = basic_header(credentials["api_key"], "")
        else:
            header = basic_header(credentials["username"], credentials["password"])
        return StaticAuthorizer({"Authorization": header})


def _layout(method: MethodSpec) -> str:
    return str(method.options.get("credentials", "username_password"))


scheme = Basic()
