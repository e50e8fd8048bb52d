"""Partner API for the proxy: ``/proxy/{path}`` with a connection's access token."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router

from connections.api.auth import ConnectionTokenAuth
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
        body=request.read(settings.ONRAMP_PROXY_MAX_REQUEST_BYTES),
    )
    answer = proxy_forward(connection=request.auth, call=call)
    response = AfterResponse(answer.content, status=answer.status)
    for name, value in answer.headers.items():
        if name.lower() in RETURNED:
            response[name] = value
    response.after = partial(proxy_use_record, connection_id=request.auth.id)
    return response


class AfterResponse(HttpResponse):
    """Runs ``after`` once the server has sent it (WSGI calls ``close()``): bookkeeping that
    need not make the partner wait."""

    after: Any = None

    def close(self) -> None:
        super().close()
        if self.after is not None:
            self.after()
