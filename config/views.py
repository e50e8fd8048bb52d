"""Answers that belong to no app."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

FAVICON = "favicon.svg"


@cache
def _favicon() -> bytes:
    return (settings.BASE_DIR / "static" / FAVICON).read_bytes()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on pages that name no icon (the admin, the API
    docs): Onramp's mark as SVG, which browsers take whatever the name says."""
    response = HttpResponse(_favicon(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
