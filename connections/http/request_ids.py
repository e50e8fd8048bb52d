"""Every answer names its request, and every log line written while it runs carries the name.

``X-Request-Id`` is the caller's own id when it sends a usable one (letters, digits and
``._:-``, at most 128), else a new ``req_…``; a partner quoting it lets an operator find the
request's log lines (``RequestIdFilter`` puts it on each record as ``request_id``). API
answers also carry ``Server-Timing``: the time spent in the database and in all, in
milliseconds, so a partner can tell Onramp's time from the network's (and, for the proxy,
from the remote system's: its time is in ``app`` but not in ``db``).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
USABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
API_PREFIX = "/api/"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-Id", "")
        request_id = given if USABLE.fullmatch(given) else f"req_{secrets.token_hex(12)}"
        request.request_id = request_id  # type: ignore[attr-defined]
        named = REQUEST_ID.set(request_id)
        database = _DatabaseTime()
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(database):
                response = self.get_response(request)
        finally:
            REQUEST_ID.reset(named)
        response["X-Request-Id"] = request_id
        if request.path.startswith(API_PREFIX):
            total = (time.perf_counter() - started) * 1000
            response["Server-Timing"] = f"db;dur={database.ms:.1f}, app;dur={total:.1f}"
        return response


class _DatabaseTime:
    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - started) * 1000


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request: workers, commands)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True
