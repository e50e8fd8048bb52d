"""Sessions bought from remote systems (an exchanged key or access token), kept for the proxy.

Buying one costs a round trip (NetSuite M2M signs a JWT and asks for a token; Mintsoft logs
in), so the proxy keeps it in the cache until shortly before it expires. It is a credential:
it is stored encrypted, bound to its connection (associated data), and forgotten when the
connection's credentials change or it is revoked.
"""

from __future__ import annotations

import json

from django.core.cache import cache

from connections.schemes.base import StaticAuthorizer
from connections.security import crypto
from connections.security.crypto import DecryptionError

MARGIN = 60  # seconds before expiry at which a session is no longer used


def _key(connection_id: str) -> str:
    return f"onramp:remote-session:{connection_id}"


def _aad(connection_id: str) -> str:
    return f"remote-session:{connection_id}"


def session_cached(connection_id: str) -> StaticAuthorizer | None:
    sealed = cache.get(_key(connection_id))
    if sealed is None:
        return None
    try:
        kept = json.loads(crypto.decrypt(sealed, aad=_aad(connection_id)))
    except DecryptionError:  # a key rotated away: buy a new session
        return None
    if "headers" not in kept:  # kept before sessions could name a base URL
        return StaticAuthorizer(kept)
    return StaticAuthorizer(kept["headers"], base_url=kept.get("base_url", ""))


def session_keep(connection_id: str, authorizer: StaticAuthorizer) -> None:
    ttl = authorizer.expires_in - MARGIN
    if ttl <= 0:
        return
    kept = {"headers": dict(authorizer.headers), "base_url": authorizer.base_url}
    sealed = crypto.encrypt(json.dumps(kept).encode(), aad=_aad(connection_id))
    cache.set(_key(connection_id), sealed, timeout=ttl)


def session_forget(connection_id: str) -> None:
    cache.delete(_key(connection_id))
