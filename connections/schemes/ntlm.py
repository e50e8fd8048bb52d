"""Windows authentication (NTLM) toward an on-premises Microsoft server (Business Central
with the Windows credential type). ``username`` is ``DOMAIN\\user``.

NTLM authenticates a TCP connection with a three-message handshake, so it cannot be a header
computed ahead: each request carries ``requests_ntlm.HttpNtlmAuth`` (pyspnego underneath),
which answers the server's 401 challenge on the same connection. Nothing is sent at sign-in;
the live check's first call does the handshake, and a refused one answers 401 as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from requests_ntlm import HttpNtlmAuth

from connections.schemes.base import AuthScheme, Send, Target


@dataclass(frozen=True)
class NtlmAuthorizer:
    username: str
    password: str = field(repr=False)
    base_url: str = ""

    def headers_for(self, method: str, url: str) -> dict[str, str]:
        return {}

    def requests_auth(self) -> HttpNtlmAuth:
        """What the outbound client hands to requests for each call."""
        return HttpNtlmAuth(self.username, self.password)


class Ntlm(AuthScheme):
    name = "ntlm"
    required_fields = frozenset({"username", "password"})

    def authenticate(
        self, target: Target, credentials: Mapping[str, str], send: Send
    ) -> NtlmAuthorizer:
        return NtlmAuthorizer(credentials["username"], credentials["password"])


scheme = Ntlm()
