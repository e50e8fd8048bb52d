"""A strict Content-Security-Policy with a per-request nonce, and framing rules.

Pages cannot be framed (``frame-ancestors 'none'`` plus Django's ``X-Frame-Options: DENY``)
unless a flow view names the one origin that may frame it with ``allow_framing`` (SECURITY.md
rule 4).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

NONCE_ATTRIBUTE = "csp_nonce"


def allow_framing(response: HttpResponse, origin: str) -> HttpResponse:
    """Let exactly ``origin`` frame this response (an empty origin keeps framing denied)."""
    if origin:
        response.frame_ancestors = origin  # type: ignore[attr-defined]
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        setattr(request, NONCE_ATTRIBUTE, nonce)
        response = self.get_response(request)
        ancestors = getattr(response, "frame_ancestors", "'none'")
        frames = getattr(response, "frame_src", "'none'")
        response.headers.setdefault("Content-Security-Policy", _policy(nonce, ancestors, frames))
        return response


def _policy(nonce: str, ancestors: str, frames: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data: https:",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            f"frame-src {frames}",
            f"frame-ancestors {ancestors}",
        ]
    )


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """Context processor: ``csp_nonce`` for ``<script nonce>`` (django-htmx reads it too)."""
    return {"csp_nonce": getattr(request, NONCE_ATTRIBUTE, "")}
