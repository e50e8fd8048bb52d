"""Onramp's URLs plus bare Django views, served together so benchmarks compare like with like."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as onramp_urlpatterns
from connections.models import ConnectionToken


def bare_select(request: HttpRequest) -> JsonResponse:
    """A plain JSON view doing one indexed SELECT: the yardstick for introspection."""
    digest = request.headers.get("X-Digest", "")
    row = ConnectionToken.objects.filter(digest=digest).values("id", "connection_id").first()
    return JsonResponse(row or {})


urlpatterns = [path("bench/bare-select/", bare_select), *onramp_urlpatterns]
