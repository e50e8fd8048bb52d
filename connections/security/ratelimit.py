"""Fixed-window counters in the cache (Redis in production), for limits and lockouts.

A window is a time bucket (``now // seconds``), so every counter knows when it resets and a
refusal can say ``Retry-After`` exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

from connections.errors import OnrampError


def _now() -> float:
    """The clock (a seam for tests)."""
    return time.time()


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits on ``key`` per window of ``seconds``."""

    key: str
    count: int
    seconds: int

    def bucket(self) -> str:
        """The cache key counting this window's hits (it expires a second after the window)."""
        return f"{self.key}:{int(_now() // self.seconds)}"

    def _retry_after(self) -> int:
        now = _now()
        return max(1, int((int(now // self.seconds) + 1) * self.seconds - now + 0.999))

    def over(self, count: int) -> int | None:
        """With ``count`` hits in this window: the seconds until it resets when over, else None."""
        return self._retry_after() if count > self.count else None

    def hit(self) -> int | None:
        """Count one hit; return the seconds until the window resets when over the limit."""
        bucket = self.bucket()
        try:
            count = cache.incr(bucket)  # one round trip, once the window has begun
        except ValueError:
            count = 1 if cache.add(bucket, 1, timeout=self.seconds + 1) else cache.incr(bucket)
        return self.over(count)

    def reached(self) -> int | None:
        """Without counting: the seconds to wait when the limit is already reached."""
        return self.over(cache.get(self.bucket(), 0) + 1)


class RateLimited(OnrampError):
    """A refusal for going too fast: 429 with ``Retry-After``."""

    def __init__(self, message: str, retry_after: int, code: str = "rate_limited") -> None:
        super().__init__(code, message, 429)
        self.retry_after = retry_after


def enforce(*limits: tuple[Limit, str]) -> None:
    """Count a hit on each limit in turn; the first one over raises ``RateLimited``.

    A refused hit stops the count there, so a caller over a narrow limit (one end user)
    never spends a wider one (the partner's budget) it shares with others.
    """
    for limit, message in limits:
        if (retry_after := limit.hit()) is not None:
            raise RateLimited(message, retry_after)
