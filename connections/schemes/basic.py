"""HTTP Basic authentication with a username and password on every request."""

from collections.abc import Mapping

from connections.schemes.base import (
    Authorizer,
    AuthScheme,
    Send,
    StaticAuthorizer,
    Target,
    basic_header,
)


class Basic(AuthScheme):
    name = "basic"
    required_fields = frozenset({"username", "password"})

    def authenticate(
        self, target: Target, credentials: Mapping[str, str], send: Send
    ) -> Authorizer:
        header = basic_header(credentials["username"], credentials["password"])
        return StaticAuthorizer({"Authorization": header})


scheme = Basic()
