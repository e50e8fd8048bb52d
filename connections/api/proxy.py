"""Partner API for the proxy: ``/proxy/{path}`` with a connection's access token."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router

from connections.api.auth import ConnectionTokenAuth
from connections.http.bodies import request_body
from connections.services.proxy import METHODS as PROXY_METHODS
from connections.services.proxy import RETURNED, ProxyCall, proxy_forward, proxy_use_record

router = Router(tags=["proxy"])


@router.api_operation(
    sorted(PROXY_METHODS),
    "/proxy/{path:path}",
    auth=ConnectionTokenAuth(active_only=False),
    summary="Call the customer's system",
)
def proxy(request: HttpRequest, path: str) -> HttpResponse:
    """Forward to the connection's system: same method, ``path`` under its base URL, query
    string, body and a few headers (Content-Type, Accept, Prefer…). Onramp applies the
    connection's auth; the answer's status, body and safe headers come back."""
    call = ProxyCall(
        method=request.method or "GET",
        path=path,
        query=request.META.get("QUERY_STRING", ""),
        headers=dict(request.headers),
        body=request_body(request, max_bytes=settings.ONRAMP_PROXY_MAX_REQUEST_BYTES),
    )
    answer = proxy_forward(connection=request.auth, call=call)
    response = _passed_back(answer.status, answer.headers, answer.content)
    response.after = partial(proxy_use_record, connection_id=request.auth.id)
    return response


def _passed_back(status: int, headers: Mapping[str, str], content: bytes) -> AfterResponse:
    """The remote's status, body and safe headers, never renderable as Onramp's page."""
    response = AfterResponse(content, status=status)
    content_type = ""
    for name, value in headers.items():
        if name.lower() in RETURNED:
            response[name] = value
        if name.lower() == "content-type":
            content_type = value
    _never_rendered(response, content_type)
    return response


# Types a browser shows as inert data; any other answer (a page, SVG, XML, PDF, no type at
# all) is a download, so a partner page linking to a proxy URL never runs the remote's
# script on Onramp's origin.
INERT_TYPES = frozenset(
    {"application/json", "text/plain", "text/csv", "image/png", "image/jpeg", "image/gif"}
)


def _never_rendered(response: HttpResponse, content_type: str) -> None:
    """Whatever the remote sent, a browser opening it gets no script and no Onramp origin
    (a sandbox, nothing loaded, no sniffing); documents are downloaded, not shown."""
    if not content_type:
        response["Content-Type"] = "application/octet-stream"  # not Django's text/html
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    if not _inert(content_type):
        response["Content-Disposition"] = "attachment"


def _inert(content_type: str) -> bool:
    # A comma lists several types, of which browsers take the last: never inert.
    essence = content_type.split(";", 1)[0].strip().lower()
    json_suffixed = essence.startswith("application/") and essence.endswith("+json")
    return "," not in content_type and (essence in INERT_TYPES or json_suffixed)


class AfterResponse(HttpResponse):
    """Runs ``after`` once the server has sent it (WSGI calls ``close()``): bookkeeping that
    need not make the partner wait."""

    after: Any = None

    def close(self) -> None:
        super().close()
        if self.after is not None:
            self.after()
