"""A system's setup guide as a public, read-only page: what "send these steps to my admin"
links to. It carries no secret and no link session: anyone may read a vendor's setup steps."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from catalog.models import System
from catalog.registry import get_definition
from connections.languages import browser_language, supported


@require_GET
def guide(request: HttpRequest, slug: str, method_id: str) -> HttpResponse:
    """In the sharer's language (``?lang=``, set on shared links), else the reader's."""
    system = System.objects.listed().filter(slug=slug).first()
    definition = get_definition(slug)
    method = definition.method(method_id) if definition else None
    if system is None or method is None:
        raise Http404("No such guide.")
    language = supported(request.GET.get("lang", "")) or browser_language(request)
    with translation.override(language):
        return render(
            request,
            "guides/guide.html",
            {"system": system, "definition": definition, "method": method},
        )
