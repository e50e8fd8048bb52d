"""Auth schemes by name: behaviour lives per scheme; systems pick one per method.

To add a scheme (a new *way* to authenticate, not a new system):
1. Write ``connections/auth/<name>.py`` with an ``AuthScheme`` subclass: its ``name``, the
   ``options`` a definition may set (``option_types``, ``required_options``), the fields it
   needs, and ``authenticate(target, values, send)`` returning an ``Authorizer`` (the headers
   for each request; ``send`` is the only way to talk to the remote). Set ``keeps_session``
   when authenticating buys a session worth keeping, and ``step`` when the flow needs an
   extra step (``connections/steps``).
2. Add it to ``SCHEMES`` below.
3. Write a simulator in ``tests/fakes`` that checks what the real service checks, and a
   round-trip test against it. A system that uses the scheme is then a TOML file.
"""

from connections.schemes import (
    api_key,
    basic,
    header_set,
    hmac_query,
    ion_api,
    netsuite_m2m,
    netsuite_tba,
    ntlm,
    oauth2_client_credentials,
    oauth2_code,
    oauth2_password,
    password_exchange,
)
from connections.schemes.base import AuthScheme

SCHEMES: dict[str, AuthScheme] = {
    api_key.scheme.name: api_key.scheme,
    basic.scheme.name: basic.scheme,
    header_set.scheme.name: header_set.scheme,
    hmac_query.scheme.name: hmac_query.scheme,
    ion_api.scheme.name: ion_api.scheme,
    password_exchange.scheme.name: password_exchange.scheme,
    netsuite_m2m.scheme.name: netsuite_m2m.scheme,
    netsuite_tba.scheme.name: netsuite_tba.scheme,
    ntlm.scheme.name: ntlm.scheme,
    oauth2_code.scheme.name: oauth2_code.scheme,
    oauth2_client_credentials.scheme.name: oauth2_client_credentials.scheme,
    oauth2_password.scheme.name: oauth2_password.scheme,
}
