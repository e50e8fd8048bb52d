"""Compressed HTML, with BREACH considered: decided per response.

BREACH reads a secret out of a compressed response's size. It needs all of: a secret in the
body, input the attacker chose reflected in the same body, a way to make the victim's browser
send many such requests with the victim's authority, and a view of the sizes on the wire.
Where Onramp's HTML holds a secret, one of these is missing or removed:

- **Flow screens** carry the link token (in their URLs and forms), and may reflect a search
  query or a typed value. But the link token *is* the authority: a page elsewhere cannot make
  a browser request a flow screen without already knowing the token (no cookie is involved),
  so there is nothing left to guess. Compressed.
- **The done screen** also holds the one-time public token: marked ``keep_uncompressed``
  (no input is reflected there, but it is the secret a partner exchanges, and 3 KB).
- **CSRF tokens** (the admin's forms): Django masks each with a fresh random salt per
  response, so the token's bytes never repeat from one response to the next.
- **Answers to POSTs** reflect what was posted, and are where a secret is shown once (a new
  partner key in the admin): never compressed.

Django's ``GZipMiddleware`` also pads every response with up to 100 random bytes (Heal The
Breach), which blurs sizes further. Only HTML is compressed here: WhiteNoise serves static
files precompressed (``collectstatic`` writes ``.gz`` and ``.br``), and this middleware sits
after it, so they never pass through; API responses (JSON) are left as they are.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSED_METHODS = ("GET", "HEAD")


def keep_uncompressed(response: HttpResponseBase) -> HttpResponseBase:
    """Mark a response that holds a secret worth more than the bytes compression saves."""
    response.holds_secret = True  # type: ignore[attr-defined]
    return response


class HtmlCompressionMiddleware(GZipMiddleware):
    """gzip for HTML answers to GET, unless marked ``keep_uncompressed`` (see above)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not _compressible(request, response):
            return response
        return super().process_response(request, response)


def _compressible(request: HttpRequest, response: HttpResponseBase) -> bool:
    return (
        request.method in COMPRESSED_METHODS
        and response.get("Content-Type", "").startswith("text/html")
        and not getattr(response, "holds_secret", False)
    )
