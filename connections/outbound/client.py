"""The one HTTP client for talking to customer systems and webhook receivers.

SECURITY.md rule 3: https only; the resolved address must be public and the connection goes
to the address that was checked (requests-hardened pins it); redirects are returned, never
followed; connect/read timeouts plus a total deadline; a response size cap; no proxy or
netrc from the environment.

A connection on the customer's private network is reached through its on-premises agent
(``agent_routes.py``): inside ``agent_routed(route)``, a request for exactly the route's host
and port goes through the agent hub's CONNECT proxy, TLS end to end, the certificate checked
by its pinned fingerprint; every other request keeps every rule here.

Tests and the demo reach local simulators through ``ONRAMP_OUTBOUND_HOST_MAP``: an explicit
map from host patterns to local addresses, like a DNS override. A mapped request keeps its
original ``Host`` header, so a simulator sees what the real system would. The one other way
to this machine is ``allow_local``: a caller that may (a test-mode webhook endpoint while
``ONRAMP_ALLOW_LOCAL_WEBHOOKS`` is on, development only) reaches ``http://localhost:…``.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import logging
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter

from connections.outbound.addresses import (
    MAX_URL_LENGTH,
    check_url,
    is_local_url,
    is_public_address,
)
from connections.outbound.agent_routes import AgentRoute, current_route
from connections.outbound.deadlines import WATCHED_POOLS, Deadline
from connections.outbound.errors import OutboundError
from connections.outbound.hostmap import host_map

logger = logging.getLogger(__name__)

USER_AGENT = "Onramp/1.0 (+connection validation)"


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed: float
    cookies: Mapping[str, str] = field(default_factory=dict)  # what Set-Cookie set

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not."""
        return jsonlib.loads(self.content)


@dataclass(frozen=True)
class Limits:
    connect_timeout: float
    read_timeout: float
    deadline: float
    max_bytes: int


@dataclass
class _Prepared:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    mapped: bool = False  # an explicit local target (host map, allowed local URL): no filter
    route: AgentRoute | None = None  # through this on-premises agent (no address filter)


def limits() -> Limits:
    return Limits(
        connect_timeout=settings.ONRAMP_OUTBOUND_CONNECT_TIMEOUT,
        read_timeout=settings.ONRAMP_OUTBOUND_READ_TIMEOUT,
        deadline=settings.ONRAMP_OUTBOUND_DEADLINE,
        max_bytes=settings.ONRAMP_OUTBOUND_MAX_BYTES,
    )


class Client:
    """Outbound requests that may share connections (all the calls of one validation run).

    Use as a context manager, or call ``close()``. Every request keeps every rule of this
    module, and each has its own total deadline.
    """

    def __init__(self) -> None:
        self._sessions: dict[bool | str, requests.Session] = {}
        self._route = current_route()  # an on-premises connection's agent, if any

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for key in ("agent", "own-True", "own-False"):  # adapters no other client shares
            if own := self._sessions.get(key):
                own.close()
        self._sessions.clear()  # the adapters (and their kept-alive connections) are shared

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | bytes | None = None,
        json: Any = None,
        auth: tuple[str, str] | requests.auth.AuthBase | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
        allow_local: bool = False,
    ) -> OutboundResponse:
        """Send one request; raise ``OutboundError`` when no usable response comes back.

        ``max_bytes`` and ``deadline`` (seconds) replace ``ONRAMP_OUTBOUND_MAX_BYTES`` and
        ``ONRAMP_OUTBOUND_DEADLINE`` for this request (the proxy's cap, webhooks' 10 s).
        ``allow_local``: a URL of this machine (``is_local_url``) may be reached too, over
        http or https; every other URL keeps every rule."""
        prepared = _prepare(url, headers or {}, allow_local=allow_local, route=self._route)
        own_pool = auth is not None and not isinstance(auth, tuple)
        session = self._session(mapped=prepared.mapped, route=prepared.route, own_pool=own_pool)
        started = time.monotonic()
        with Deadline(min(deadline or limits().deadline, limits().deadline)) as watch:
            try:
                response = session.request(
                    method,
                    prepared.url,
                    headers=prepared.headers,
                    data=data,
                    json=json,
                    auth=auth,
                    allow_redirects=False,
                    stream=True,
                    proxies=_agent_proxies(prepared.route),
                    timeout=(limits().connect_timeout, limits().read_timeout),
                )
                with response:
                    content = _read_capped(response, max_bytes or limits().max_bytes)
            except requests.RequestException as exc:
                raise _translate(exc, url, deadline_passed=watch.expired) from None
            if watch.expired:  # cut short: what arrived may look whole, but is not
                raise _translate(None, url, deadline_passed=True)
        elapsed = time.monotonic() - started
        logger.info(
            "outbound %s %s -> %s in %.2fs", method, _loggable(url), response.status_code, elapsed
        )
        cookies = response.cookies.get_dict()
        return OutboundResponse(response.status_code, response.headers, content, elapsed, cookies)

    def _session(
        self, *, mapped: bool, route: AgentRoute | None = None, own_pool: bool = False
    ) -> requests.Session:
        if route is not None:
            if "agent" not in self._sessions:
                self._sessions["agent"] = _agent_session(route)
            return self._sessions["agent"]
        if own_pool:  # a sign-in that authenticates the connection (NTLM): never shared
            key = f"own-{mapped}"
            if key not in self._sessions:
                self._sessions[key] = _session(mapped=mapped, adapters=_new_adapters(mapped))
            return self._sessions[key]
        if mapped not in self._sessions:
            self._sessions[mapped] = _session(mapped=mapped)
        return self._sessions[mapped]


def request(method: str, url: str, **options: Any) -> OutboundResponse:
    """Send one request to a customer system or webhook receiver (``Client.request``'s
    options); raise ``OutboundError`` when no usable response comes back."""
    with Client() as client:
        return client.request(method, url, **options)


POOLED_HOSTS = 100  # addresses whose connections are kept alive (a pool each), least used go
POOLED_PER_HOST = 32  # connections kept alive per address (concurrent webhook sends to one)


class _WatchedAdapter(HTTPAdapter):
    """Its connections register with the request's ``Deadline``."""

    def init_poolmanager(self, connections: int, maxsize: int, *args: Any, **kwargs: Any) -> None:
        hosts, per_host = max(connections, POOLED_HOSTS), max(maxsize, POOLED_PER_HOST)
        super().init_poolmanager(hosts, per_host, *args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS


class _PublicOnlyAdapter(_WatchedAdapter, IPFilterAdapter):
    """requests-hardened resolves once and pins the address; we then hold that pinned
    address to our own, stricter rule as well."""

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        pinned = ipaddress.ip_address(host_params["host"].strip("[]"))
        if not is_public_address(pinned):
            raise InvalidIPAddress(pinned)
        return host_params, pool_kwargs


def _prepare(
    url: str,
    headers: Mapping[str, str],
    *,
    allow_local: bool = False,
    route: AgentRoute | None = None,
) -> _Prepared:
    if route is not None and _for_agent(url, route):
        return _Prepared(url=url, headers={"User-Agent": USER_AGENT, **headers}, route=route)
    if allow_local and is_local_url(url):  # asked for by name: no address filter, like a map
        return _Prepared(url=url, headers={"User-Agent": USER_AGENT, **headers}, mapped=True)
    parts = check_url(url)
    prepared = _Prepared(url=urlunsplit(parts), headers={"User-Agent": USER_AGENT, **headers})
    route = next((r for r in host_map() if r.matches(parts.hostname or "")), None)
    if route is not None:
        target = route.target
        path = target.path.rstrip("/") + parts.path
        prepared.url = urlunsplit((target.scheme, target.netloc, path, parts.query, ""))
        prepared.headers["Host"] = parts.hostname or ""
        prepared.mapped = True
    return prepared


def _session(*, mapped: bool, adapters: dict[str, HTTPAdapter] | None = None) -> requests.Session:
    """A session of its own (cookies stay within one client's run), on shared adapters: their
    connection pools keep connections to a remote alive between runs (no new TLS handshake
    per proxied call). ``adapters``: this client's own instead (a connection-bound sign-in
    such as NTLM must never lend its authenticated connection to another client)."""
    if mapped:
        session = requests.Session()  # an explicit local simulator: no address filter
    else:
        session = HTTPSession(
            Config(
                ip_filter_enable=True,
                ip_filter_allow_loopback_ips=False,
                never_redirect=True,
                default_timeout=(limits().connect_timeout, limits().read_timeout),
                user_agent_override=USER_AGENT,
            )
        )
    for prefix, adapter in (adapters or _adapters(mapped)).items():
        session.mount(prefix, adapter)
    session.trust_env = False  # no proxies or netrc from the environment
    return session


def _for_agent(url: str, route: AgentRoute) -> bool:
    """An https URL of exactly the agent's host and port (no user info): the one kind of
    request the agent carries. Its address is the customer's network's business: the hub
    never dials anything itself, and the agent reaches only what was confirmed at pairing."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        return False
    if parts.scheme != "https" or "@" in parts.netloc or len(url) > MAX_URL_LENGTH:
        return False
    return route.carries((parts.hostname or "").rstrip(".").lower(), port)


class _AgentAdapter(_WatchedAdapter):
    """Through the hub's CONNECT proxy; the instance's certificate checked by its pinned
    SHA-256 fingerprint (urllib3's ``assert_fingerprint``, before any byte is sent), else by
    the usual CAs. Never unverified."""

    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        super().__init__()

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if self._fingerprint:  # a self-signed certificate the end user confirmed
            pool_kwargs["assert_fingerprint"] = self._fingerprint
            pool_kwargs["cert_reqs"] = "CERT_NONE"  # the chain: the pin replaces it
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if self._fingerprint:  # the pool was made with the pin: keep it so
            conn.cert_reqs, conn.assert_fingerprint = "CERT_NONE", self._fingerprint
            return
        super().cert_verify(conn, url, verify, cert)


def _agent_session(route: AgentRoute) -> requests.Session:
    session = requests.Session()
    session.mount("https://", _AgentAdapter(route.fingerprint))
    session.mount("http://", HTTPAdapter(max_retries=0))  # never used: https only
    session.trust_env = False
    return session


def _agent_proxies(route: AgentRoute | None) -> dict[str, str] | None:
    """The hub, with a token for this agent and target as ``Proxy-Authorization`` (requests
    sends a proxy URL's user info as Basic credentials on the CONNECT)."""
    if route is None:
        return None
    credentials = "agent:" + quote(route.token(), safe="")
    return {"https": f"http://{credentials}@{route.hub}"}


@cache
def _adapters(mapped: bool) -> dict[str, HTTPAdapter]:
    """One set per process (and per kind): thread-safe connection pools."""
    return _new_adapters(mapped)


def _new_adapters(mapped: bool) -> dict[str, HTTPAdapter]:
    if mapped:
        return {"http://": _WatchedAdapter(), "https://": _WatchedAdapter()}
    return {"https://": _PublicOnlyAdapter(is_https_proto=True, allow_loopback=False)}


def _read_capped(response: requests.Response, cap: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    too_large = OutboundError(
        "response_too_large", "The system sent a response that is too large."
    )
    if declared.isdigit() and int(declared) > cap:
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > cap:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _translate(
    exc: requests.RequestException | None, url: str, *, deadline_passed: bool = False
) -> OutboundError:
    host = urlsplit(url).hostname or "the host"
    if deadline_passed or exc is None:
        return OutboundError("timeout", f"{host} took too long to answer.")
    causes = list(_causes(exc))
    if any(isinstance(cause, InvalidIPAddress) for cause in causes):
        return OutboundError(
            "forbidden_address", f"{host} resolves to an address that is not allowed."
        )
    if any(_is_name_error(cause) for cause in causes):
        return OutboundError("host_not_found", f"{host} could not be found.")
    if isinstance(exc, requests.exceptions.SSLError):
        return OutboundError("tls_error", f"The secure connection to {host} failed.")
    if isinstance(exc, requests.exceptions.Timeout):
        return OutboundError("timeout", f"{host} took too long to answer.")
    return OutboundError("connection_failed", f"Could not connect to {host}.")


def _is_name_error(exc: BaseException) -> bool:
    return isinstance(exc, socket.gaierror) or type(exc).__name__ == "NameResolutionError"


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (requests nests urllib3's errors in args)."""
    found: list[BaseException] = []
    pending = [exc]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        linked = (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            *current.args,
        )
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return found


def _loggable(url: str) -> str:
    """Scheme, host and path only: query strings may carry identifiers we do not log."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
