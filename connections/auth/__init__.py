"""Auth schemes by name. Behaviour lives per scheme; systems pick one per method."""

from connections.auth import api_key, basic, password_exchange
from connections.auth.base import AuthScheme

SCHEMES: dict[str, AuthScheme] = {
    api_key.scheme.name: api_key.scheme,
    basic.scheme.name: basic.scheme,
    password_exchange.scheme.name: password_exchange.scheme,
}
