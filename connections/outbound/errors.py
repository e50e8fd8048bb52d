"""What the outbound client raises when a request yields no usable response."""

from __future__ import annotations


class OutboundError(Exception):
    """A request that produced no usable response. ``code`` says why, for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
