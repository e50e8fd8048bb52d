"""Fixed-window counters in the cache (Redis in production), for limits and lockouts.

A window is a time bucket (``now // seconds``), so every counter knows when it resets and a
refusal can say ``Retry-After`` exactly. On Redis, ``enforce`` counts all its limits in one
round trip (a pipeline; Django's ``incr`` alone takes two): a submit's four limits took
eight round trips before.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from config.cache import CacheUnavailable
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
    never spends a wider one (the partner's budget) it shares with others: counted together
    on Redis, the wider ones' hits are taken back.
    """
    buckets = [(limit, limit.bucket()) for limit, _ in limits]
    try:
        counts = _hit_all(buckets)
    except CacheUnavailable:  # one at a time, to what the cache has (degraded: memory)
        for limit, message in limits:
            if (retry_after := limit.hit()) is not None:
                raise RateLimited(message, retry_after) from None
        return
    for n, ((limit, message), count) in enumerate(zip(limits, counts, strict=True)):
        if (retry_after := limit.over(count)) is not None:
            _take_back([bucket for _, bucket in buckets[n + 1 :]])
            raise RateLimited(message, retry_after)


def _hit_all(buckets: list[tuple[Limit, str]]) -> list[int]:
    """Each limit's count in its window (``bucket``), one hit added, in one Redis round trip
    (``CacheUnavailable`` when the cache is not Redis, or Redis does not answer)."""
    if not hasattr(cache, "run") or not buckets:
        raise CacheUnavailable("no pipelines")

    def commands(client: Any, _: str) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for limit, bucket in buckets:
            key = cache.make_and_validate_key(bucket)
            pipe.set(key, 0, nx=True, ex=limit.seconds + 1).incr(key)
        return pipe.execute()

    return cache.run(buckets[0][1], commands)[1::2]


def _take_back(buckets: list[str]) -> None:
    """The hits counted on ``buckets`` taken back (a narrower limit refused the call)."""
    if not buckets:
        return

    def commands(client: Any, _: str) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for bucket in buckets:
            pipe.decr(cache.make_and_validate_key(bucket))
        return pipe.execute()

    with contextlib.suppress(CacheUnavailable):  # counted one too many: the window ends soon
        cache.run(buckets[0], commands)
