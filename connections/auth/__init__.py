"""Auth schemes by name. Behaviour lives per scheme; systems pick one per method."""

from connections.auth import api_key, basic, netsuite_m2m, netsuite_tba, password_exchange
from connections.auth.base import AuthScheme

SCHEMES: dict[str, AuthScheme] = {
    api_key.scheme.name: api_key.scheme,
    basic.scheme.name: basic.scheme,
    password_exchange.scheme.name: password_exchange.scheme,
    netsuite_m2m.scheme.name: netsuite_m2m.scheme,
    netsuite_tba.scheme.name: netsuite_tba.scheme,
}
