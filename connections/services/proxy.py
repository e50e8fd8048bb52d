"""The passthrough proxy: a partner calls the customer's system through Onramp.

``/api/v1/proxy/{path}`` with the connection's access token is forwarded to the connection's
base URL + ``path`` + query string, with the connection's auth applied inside Onramp by its
scheme (the credentials never leave). Only that host; only a short list of headers in and
out; size caps; the outbound deadline; a per-connection rate limit. A remote 401 after a
fresh session brings the connection's health check forward (``ONRAMP_PROXY_RECHECK_DELAY``;
the 401 alone never makes it invalid), and after ``ONRAMP_PROXY_AUTH_REFUSALS`` refusals
proxied calls stop signing in to that system for ``ONRAMP_PROXY_AUTH_PAUSE`` seconds: a
partner retrying in a loop must not lock the customer's user out with failed sign-ins.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.registry import get_definition
from config.cache import CacheUnavailable
from connections.agents.routing import agent_route_for_connection
from connections.errors import OnrampError
from connections.models import Connection, ConnectionStatus
from connections.outbound.agent_routes import agent_routed
from connections.outbound.client import Client, OutboundResponse
from connections.outbound.errors import OutboundError
from connections.outbound.paths import path_stays_under
from connections.schemes import SCHEMES
from connections.schemes.base import AuthFailure, Authorizer, StaticAuthorizer, Target
from connections.security.inflight import Cap, CapReached, in_flight
from connections.security.ratelimit import Limit, RateLimited
from connections.services.connections import connection_credentials_fresh
from connections.services.oauth import app_headers_for
from connections.verification.remote_sessions import session_cached, session_forget, session_keep
from connections.verification.run import auth_of, build_target

logger = logging.getLogger(__name__)

# Headers a partner may send on to the remote, and the remote's headers it gets back.
FORWARDED = frozenset(
    {"accept", "accept-language", "content-type", "if-match", "if-none-match", "prefer"}
)
RETURNED = frozenset(
    {"content-type", "etag", "last-modified", "link", "location", "retry-after", "x-total-count"}
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
USE_FLUSH_SECONDS = 10


@dataclass(frozen=True)
class ProxyCall:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


def proxy_forward(*, connection: Connection, call: ProxyCall) -> OutboundResponse:
    """Send the partner's call to the customer's system and return its answer."""
    if connection.status != ConnectionStatus.ACTIVE:
        message = f"This connection is {connection.status}: reconnect it to use it again."
        raise OnrampError("connection_invalid", message, 409)
    if call.method not in METHODS:
        raise OnrampError("method_not_allowed", f"{call.method} is not proxied.", 405)
    target = _target(connection)
    url = proxy_url(target.base_url, call.path, call.query)
    headers = {k: v for k, v in call.headers.items() if k.lower() in FORWARDED}
    host = urlsplit(url).hostname or ""
    route = agent_route_for_connection(connection)  # on-premises: through its agent
    with (
        _capped(connection, host, _throttle(connection)) as refusals,
        agent_routed(route),
        Client() as client,
    ):
        return _send_authorized(client, connection, target, call, url, headers, refusals)


def connection_read(
    *,
    connection: Connection,
    path: str,
    query: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> OutboundResponse:
    """GET ``path`` (under the connection's base URL) on Onramp's own behalf, signed exactly
    as a proxied call is: what syncs read (a POST with a JSON ``body`` where the system
    lists by query, as NetSuite's SuiteQL; ``headers`` among those a proxied call forwards).
    Not counted against the partner's proxy rate limit, but within the same in-flight caps,
    so syncs and proxied calls together never hold more of a host than one of them may."""
    target = _target(connection)
    url = proxy_url(target.base_url, path.lstrip("/"), query)
    sent = {"accept": "application/json"}
    sent |= {k.lower(): v for k, v in (headers or {}).items() if k.lower() in FORWARDED}
    if body:
        sent["content-type"] = "application/json"
    call = ProxyCall("POST" if body else "GET", path, query, sent, body)
    route = agent_route_for_connection(connection)  # on-premises: through its agent
    with (
        _capped(connection, urlsplit(url).hostname or "") as refusals,
        agent_routed(route),
        Client() as client,
    ):
        return _send_authorized(
            client, connection, target, call, url, dict(call.headers), refusals
        )


@contextmanager
def _capped(
    connection: Connection, host: str, limit: tuple[Limit, str] | None = None
) -> Iterator[int]:
    """Calls in flight per connection and per partner (429: the partner's own concurrency,
    so one partner's slow customers cannot take every thread) and per remote host (503: that
    system is busy), so a hanging system holds few of Onramp's threads. With ``limit``, the
    call is counted against it too. Gives the connection's recent sign-in refusals (see
    ``_refused``): all in one cache round trip."""
    per_connection = Cap(
        f"connection:{connection.id}", settings.ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION
    )
    per_partner = Cap(
        f"partner:{connection.partner_id}", settings.ONRAMP_PROXY_IN_FLIGHT_PER_PARTNER
    )
    per_host = Cap(f"host:{host}", settings.ONRAMP_PROXY_IN_FLIGHT_PER_HOST)
    # A call is at most a sign-in, a send, and once more after a 401: four outbound deadlines.
    hold = 4 * settings.ONRAMP_OUTBOUND_DEADLINE + 10
    try:
        with in_flight(
            per_connection,
            per_partner,
            per_host,
            hold_seconds=hold,
            limit=limit,
            peek=_refusals_key(connection),
        ) as admitted:
            yield admitted.peeked or 0
    except CapReached as reached:
        if reached.cap is per_connection:
            raise RateLimited(
                _("Too many calls to this connection at once; wait for one to finish."),
                1,
                code="too_many_in_flight",
            ) from None
        if reached.cap is per_partner:
            raise RateLimited(
                _("Too many of your calls are in flight at once; wait for some to finish."),
                1,
                code="partner_too_many_in_flight",
            ) from None
        busy = OnrampError(
            "remote_busy", _("Too many calls to this system at once; try again shortly."), 503
        )
        busy.retry_after = 5
        raise busy from None


def proxy_url(base_url: str, path: str, query: str) -> str:
    """``base_url`` + ``path``, refusing anything that could leave the base URL's host or
    path, however the remote decodes it (``outbound/paths.py``)."""
    if not path_stays_under(path):
        raise _off_host()
    url = base_url.rstrip("/") + "/" + path + (f"?{query}" if query else "")
    base, built = urlsplit(base_url), urlsplit(url)
    if built.netloc != base.netloc or not built.path.startswith(base.path.rstrip("/") + "/"):
        raise _off_host()
    return url


def _off_host() -> OnrampError:
    return OnrampError("invalid_path", "The path must stay on the connection's system.")


def _target(connection: Connection) -> Target:
    definition = get_definition(connection.system_id)
    method = definition.method(connection.method) if definition else None
    if method is None:
        raise OnrampError("system_unavailable", "This system is no longer offered.", 409)
    app = app_headers_for(connection.partner_id, definition.slug, method)
    if app is None:
        message = _("Register your app for this system again to use this connection.")
        raise OnrampError("app_missing", message, 409)
    return build_target(definition, method, connection.config, app)


def _send_authorized(
    client: Client,
    connection: Connection,
    target: Target,
    call: ProxyCall,
    url: str,
    headers: dict[str, str],
    refusals: int,
) -> OutboundResponse:
    authorizer, fresh = _authorizer(client, connection, target, refusals)
    response = _send(client, authorizer, target, call, url, headers)
    if response.status == 401 and not fresh:  # the kept session expired early: buy another
        session_forget(connection.id)
        authorizer, fresh = _authorizer(client, connection, target, refusals)
        response = _send(client, authorizer, target, call, url, headers)
    if response.status == 401:
        _refused(connection)
    return response


def _authorizer(
    client: Client, connection: Connection, target: Target, refusals: int
) -> tuple[Authorizer, bool]:
    """The connection's auth: a kept session, or a new one (``fresh``), unless sign-ins are
    paused after ``refusals``."""
    scheme = SCHEMES[target.method.scheme]
    if scheme.keeps_session and (kept := session_cached(connection.id)) is not None:
        return kept, False
    _refuse_while_paused(refusals)
    try:
        values = {**target.config, **connection_credentials_fresh(connection)}
        authorizer = scheme.authenticate(target, values, client.request)
    except AuthFailure as exc:
        _refused(connection)
        raise OnrampError(
            "remote_auth_failed",
            _("The system refused Onramp's sign-in (%(code)s).") % {"code": exc.code},
            502,
        ) from None
    except OutboundError as exc:
        raise _unreachable(exc) from None
    if scheme.keeps_session and isinstance(authorizer, StaticAuthorizer):
        session_keep(connection.id, authorizer)
    return authorizer, True


def _send(
    client: Client,
    authorizer: Authorizer,
    target: Target,
    call: ProxyCall,
    url: str,
    headers: dict[str, str],
) -> OutboundResponse:
    if authorizer.base_url:  # the sign-in named the API's address (Linnworks)
        url = proxy_url(authorizer.base_url, call.path, call.query)
    signed = {**headers, **target.extra_headers(), **authorizer.headers_for(call.method, url)}
    try:
        return client.request(
            call.method,
            url,
            headers=signed,
            data=call.body or None,
            max_bytes=settings.ONRAMP_PROXY_MAX_RESPONSE_BYTES,
            **auth_of(authorizer),
        )
    except OutboundError as exc:
        raise _unreachable(exc) from None


def _unreachable(exc: OutboundError) -> OnrampError:
    status = 504 if exc.code == "timeout" else 502
    return OnrampError(f"remote_{exc.code}", exc.message, status)


def _throttle(connection: Connection) -> tuple[Limit, str]:
    """The per-connection rate limit (counted as the call takes its slots, ``_capped``)."""
    limit = Limit(f"onramp:proxy:{connection.id}", settings.ONRAMP_PROXY_REQUESTS_PER_MINUTE, 60)
    return limit, "Too many proxied requests for this connection."


def _refusals_key(connection: Connection) -> str:
    return f"onramp:proxy-refusals:{connection.id}"


def _refused(connection: Connection) -> None:
    """The remote refused our auth: count it toward a pause, and check the connection
    properly soon (a system check, which alone may make it invalid)."""
    key = _refusals_key(connection)
    if not cache.add(key, 1, timeout=settings.ONRAMP_PROXY_AUTH_PAUSE):
        with contextlib.suppress(ValueError):  # expired between add and incr: counted anew
            cache.incr(key)
    soon = timezone.now() + timedelta(seconds=settings.ONRAMP_PROXY_RECHECK_DELAY)
    Connection.objects.filter(pk=connection.pk, status=ConnectionStatus.ACTIVE).update(
        next_check_at=Least(Coalesce("next_check_at", soon), soon)
    )


def _refuse_while_paused(refusals: int) -> None:
    if refusals >= settings.ONRAMP_PROXY_AUTH_REFUSALS:
        paused = OnrampError(
            "remote_auth_paused",
            _(
                "The system refused Onramp's sign-in several times just now; Onramp will "
                "check the connection shortly. Try again in a few minutes."
            ),
            503,
        )
        paused.retry_after = settings.ONRAMP_PROXY_AUTH_PAUSE
        raise paused


def proxy_use_record(*, connection_id: str) -> None:
    """Count a proxied call (never its body). Counted in the cache and written to the
    connection at most every ``USE_FLUSH_SECONDS``: a database commit per call would cost
    more than the call. The API calls this once the answer is sent."""
    key = f"onramp:proxy-uses:{connection_id}"
    flushed = f"onramp:proxy-uses-flushed:{connection_id}"
    try:
        due = _count_use_pipelined(key, flushed)
    except CacheUnavailable:  # one call at a time, to what the cache has
        due = _count_use(key, flushed)
    if due:
        _flush_uses(connection_id, key)


def _count_use_pipelined(key: str, flushed: str) -> bool:
    """Count the use and see whether a write is due, in one Redis round trip."""
    if not hasattr(cache, "run"):  # not Redis (the embedded default)
        raise CacheUnavailable("no pipelines")

    def commands(client: Any, counter: str) -> list[Any]:
        marker = cache.make_and_validate_key(flushed)
        pipe = client.pipeline(transaction=False).incr(counter)
        return pipe.set(marker, 1, nx=True, ex=USE_FLUSH_SECONDS).execute()

    return bool(cache.run(key, commands)[1])


def _count_use(key: str, flushed: str) -> bool:
    try:
        cache.incr(key)
    except ValueError:
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)
    return cache.add(flushed, 1, timeout=USE_FLUSH_SECONDS)


def _flush_uses(connection_id: str, key: str) -> None:
    pending = cache.get(key) or 0
    if not pending:
        return
    Connection.objects.filter(pk=connection_id).update(
        proxy_requests=F("proxy_requests") + pending, last_proxied_at=timezone.now()
    )
    cache.decr(key, pending)  # calls counted meanwhile stay for the next write
