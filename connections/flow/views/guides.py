"""A system's setup guide as a public, read-only page: what "send these steps to my admin"
links to. It carries no secret and no link session: anyone may read a vendor's setup steps."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET

from catalog.registry import get_definition
from catalog.search import listed_entry
from connections.languages import browser_language, supported

GUIDE_MAX_AGE = 300  # seconds: operators' catalog changes show soon


@require_GET
def guide(request: HttpRequest, slug: str, method_id: str) -> HttpResponse:
    """In the sharer's language (``?lang=``, set on shared links), else the reader's."""
    system = listed_entry(slug)  # from the search index: no query
    definition = get_definition(slug)
    method = definition.method(method_id) if definition else None
    if system is None or method is None or not method.has_guide:
        raise Http404("No such guide.")
    shared_in = supported(request.GET.get("lang", ""))
    with translation.override(shared_in or browser_language(request)):
        response = render(
            request,
            "guides/guide.html",
            {"system": system, "definition": definition, "method": method},
        )
    # No secret in it, but a browser's own copy only (a shared cache may ignore Vary).
    patch_cache_control(response, private=True, max_age=GUIDE_MAX_AGE)
    if not shared_in:  # in the reader's language
        patch_vary_headers(response, ["Accept-Language"])
    return response
