"""One request of a sync to the system, signed as the proxy signs: its JSON answer, or why
there is none (``RemoteThrottled`` for a 429 or our own in-flight caps, ``RemoteFailed`` for
anything else, a refusal inside a 200 included)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from connections.errors import OnrampError
from connections.models import Connection
from connections.services.proxy import connection_read
from connections.syncs.mapping import dig

MAX_RETRY_AFTER = 3600


class RemoteThrottled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"throttled for {retry_after} s")
        self.retry_after = retry_after


class RemoteFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message[:500]


def remote_answer(
    connection: Connection,
    *,
    path: str,
    query: dict[str, str],
    body: Any = None,
    headers: dict[str, str] | None = None,
    error_field: str = "",
) -> tuple[Any, str]:
    """The system's JSON answer to a GET (or, with a ``body``, a POST of it as JSON), and its
    ``Link`` header."""
    try:
        response = connection_read(
            connection=connection,
            path=path,
            query=urlencode(query),
            body=json.dumps(body).encode() if body is not None else b"",
            headers=headers or {},
        )
    except OnrampError as exc:
        if exc.retry_after:  # our own caps on calls in flight to that host
            raise RemoteThrottled(exc.retry_after) from None
        raise RemoteFailed(exc.code, exc.message) from None
    if response.status == 429:
        raise RemoteThrottled(_retry_after(response.headers.get("retry-after", "")))
    if not 200 <= response.status < 300:
        raise RemoteFailed(f"remote_{response.status}", f"The system answered {response.status}.")
    try:
        answer = response.json()
    except ValueError:
        raise RemoteFailed("unexpected_answer", "The system's answer is not JSON.") from None
    if error_field and (refusal := dig(answer, error_field)):
        raise RemoteFailed("remote_refused", " ".join(str(refusal).split()))
    return answer, response.headers.get("link", "")


def _retry_after(value: str) -> int:
    seconds = int(value) if value.strip().isdigit() else 60  # an HTTP date: a minute is fine
    return max(1, min(seconds, MAX_RETRY_AFTER))
