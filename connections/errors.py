"""The one exception services raise for a request they refuse; views and the API render it."""

from __future__ import annotations

from typing import Any


class OnrampError(Exception):
    """A refusal with a stable ``code``, a ``message`` safe to show, and an HTTP status.

    ``retry_after`` (seconds) is set when waiting will help; it becomes ``Retry-After``.
    """

    retry_after: int | None = None

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def with_headers(response: Any, exc: OnrampError) -> Any:
    """``response`` with the headers the refusal calls for (``Retry-After``)."""
    for name, value in exc.headers().items():
        response[name] = value
    return response
