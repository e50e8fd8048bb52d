"""A strict Content-Security-Policy with a per-request nonce, and framing rules.

Pages cannot be framed (``frame-ancestors 'none'`` plus Django's ``X-Frame-Options: DENY``)
unless a flow view names the one origin that may frame it with ``allow_framing`` (SECURITY.md
rule 4).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

NONCE_ATTRIBUTE = "csp_nonce"
ViewFunc = Callable[..., HttpResponse]
PROXY_PREFIX = "/api/v1/proxy/"  # its bodies are capped by ONRAMP_PROXY_MAX_REQUEST_BYTES


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


def declared_body_size(request: HttpRequest) -> int:
    """The request body's declared size. Django reads no more than this (WSGI), ever."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def body_limit(max_bytes: int) -> Callable[[ViewFunc], ViewFunc]:
    """Declare that a view takes bodies up to ``max_bytes`` and refuses larger ones itself
    (with its own, friendlier answer); the middleware then leaves that check to the view."""

    def decorate(view: ViewFunc) -> ViewFunc:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return decorate


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body is too large before anything reads it (413).

    The cap is ``ONRAMP_MAX_REQUEST_BYTES``, or what the view declared with ``body_limit``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: ViewFunc, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        declared = getattr(view, "max_body_bytes", None)
        if request.path.startswith(PROXY_PREFIX):
            declared = settings.ONRAMP_PROXY_MAX_REQUEST_BYTES
            if declared_body_size(request) > declared:
                return too_large(request, declared)
            return None
        size = declared_body_size(request)
        if declared is not None and size <= max(declared, settings.ONRAMP_MAX_REQUEST_BYTES):
            return None  # the view answers oversized bodies up to the global cap itself
        if size <= settings.ONRAMP_MAX_REQUEST_BYTES:
            return None
        return too_large(request, settings.ONRAMP_MAX_REQUEST_BYTES)


def too_large(request: HttpRequest, limit_bytes: int) -> HttpResponse:
    limit = limit_bytes // 1024
    message = _("The request is too large (at most %(limit)d KiB).") % {"limit": limit}
    if request.path.startswith("/api/"):
        body = {"error": {"code": "request_too_large", "message": message}}
        response: HttpResponse = JsonResponse(body, status=413)
    else:
        response = HttpResponse(escape(message), status=413, content_type="text/html")
    return response
