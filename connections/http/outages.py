"""What a caller sees when a database, cache or broker cannot be reached: a clear 503 that
says when to try again, never a 500 (SECURITY.md rule 14).

The partner API answers JSON ``{"error": {"code": "unavailable", …}}`` with ``Retry-After``;
the flow shows its own screen in the browser's language (the session cannot be read); every
other page a short plain answer. The outage is logged once per request, without the error's
text (it may hold a connection string).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from config.cache import CacheUnavailable
from connections.http.middleware import allow_framing
from connections.languages import browser_language

logger = logging.getLogger(__name__)
OUTAGES = (
    OperationalError,
    InterfaceError,
    CacheUnavailable,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    BrokerError,
)
RETRY_AFTER_SECONDS = 30


class OutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except OUTAGES as exc:  # raised by a middleware further in (sessions, auth)
            return unavailable(request, exc)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable(request, exception) if isinstance(exception, OUTAGES) else None


def unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("unavailable: %s on %s %s", type(exc).__name__, request.method, request.path)
    message = _("Onramp is briefly unavailable. Please try again in a minute.")
    if request.path.startswith("/api/"):
        body = {"error": {"code": "unavailable", "message": message}}
        response: HttpResponse = JsonResponse(body, status=503)
    elif request.path.startswith(("/connect/", "/oauth/")):
        with translation.override(browser_language(request)):
            response = render(request, "connect/unavailable.html", status=503)
        patch_vary_headers(response, ["Accept-Language"])
        # A static page with nothing to click: it may show in the partner's frame.
        response = allow_framing(response, "*")
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
