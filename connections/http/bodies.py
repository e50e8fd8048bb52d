"""A request's body whatever its framing, capped (SECURITY.md rule 6).

Django reads a body by ``Content-Length`` only: a chunked request (``Transfer-Encoding:
chunked``, no length) reaches a view as an empty body. gunicorn (every worker class, gthread
included) takes the chunks apart itself and says so with ``wsgi.input_terminated``: its
``wsgi.input`` ends where the body ends, so the body can be read to its end, here never more
than the cap plus one byte. A server that does not promise this (Django's development
server) hands over the raw connection, where reading could block or take in the chunk
framing: a chunked body there is refused with 411 ``length_required``.
"""

from __future__ import annotations

from typing import IO

from django.http import HttpRequest
from django.utils.translation import gettext as _

from connections.errors import OnrampError

STEP = 64 * 1024


def request_body(request: HttpRequest, *, max_bytes: int) -> bytes:
    """The body, at most ``max_bytes`` (413 ``request_too_large`` beyond): by its
    ``Content-Length`` (the middleware refused a larger one before), or chunked and read to
    its end where the server ends it for us (411 ``length_required`` where it does not)."""
    if not request.META.get("HTTP_TRANSFER_ENCODING"):
        return request.read(max_bytes)
    if not request.environ.get("wsgi.input_terminated"):
        message = _("Send the body with a Content-Length header.")
        raise OnrampError("length_required", message, 411)
    return _read_to_end(request.environ["wsgi.input"], max_bytes)


def _read_to_end(stream: IO[bytes], max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        try:
            chunk = stream.read(min(STEP, max_bytes + 1 - size))
        except Exception:  # the server's own error for broken chunk framing or a hang-up
            raise OnrampError("invalid_body", _("The request body could not be read.")) from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    limit = {"limit": max_bytes // 1024}
    message = _("The request is too large (at most %(limit)d KiB).") % limit
    raise OnrampError("request_too_large", message, 413)
