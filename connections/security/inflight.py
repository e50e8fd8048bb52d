"""Caps on calls in flight (the proxy's, per connection and per remote host), shared by every
process through the cache.

A cap of ``n`` is ``n`` slots, each a cache key taken with ``add`` (atomic: set if absent) and
given back with ``delete`` when the call ends. A slot whose holder died lapses after
``hold_seconds``, which callers size to outlast their longest call. While Redis cannot be
reached the cache degrades to this process's memory, and the caps hold per process.

On Redis, a slot of every cap (and a rate limit's hit, and a read the caller needs) is asked
for in one round trip (a pipeline): a proxied call took one round trip for each before. Only
a cap whose first choice was held tries its other slots, one at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from config.cache import CacheUnavailable
from connections.security.ratelimit import Limit, RateLimited


@dataclass(frozen=True)
class Cap:
    """At most ``count`` calls at once under ``key``."""

    key: str
    count: int


class CapReached(Exception):
    def __init__(self, cap: Cap) -> None:
        super().__init__(cap.key)
        self.cap = cap


@dataclass
class Admitted:
    """What ``in_flight`` read on the way in: the value under its ``peek`` key (or None)."""

    peeked: Any = None


@contextmanager
def in_flight(
    *caps: Cap,
    hold_seconds: float,
    limit: tuple[Limit, str] | None = None,
    peek: str = "",
) -> Iterator[Admitted]:
    """Hold a slot of each cap for the block; ``CapReached`` (holding none) when one is full.

    With ``limit`` (a ``Limit`` and its message, as ``enforce`` takes them), a hit is counted
    on it as well, and ``RateLimited`` raised (holding no slot) when it is over. With
    ``peek``, that cache key's value is read too (``Admitted.peeked``).
    """
    held_slots: list[str] = []
    try:
        admitted = _take_all(caps, hold_seconds, limit, peek, held_slots)
        yield admitted
    finally:
        cache.delete_many(held_slots)


def _take_all(
    caps: tuple[Cap, ...],
    hold_seconds: float,
    limit: tuple[Limit, str] | None,
    peek: str,
    held_slots: list[str],
) -> Admitted:
    firsts = [_slot(cap, random.randrange(cap.count)) for cap in caps]  # noqa: S311 (spreads)
    counted = limit[0] if limit is not None else None
    try:
        if not hasattr(cache, "run"):  # not Redis (the embedded default)
            raise CacheUnavailable("no pipelines")
        over, taken, peeked = _pipelined(firsts, hold_seconds, counted, peek)
    except CacheUnavailable:  # one call at a time, to what the cache has (degraded: memory)
        over, taken, peeked = _one_by_one(firsts, hold_seconds, counted, peek)
    held_slots.extend(slot for slot, took in zip(firsts, taken, strict=True) if took)
    if over is not None:
        raise RateLimited(limit[1], over)
    for cap, took in zip(caps, taken, strict=True):
        if not took:
            held_slots.append(_take(cap, hold_seconds))
    return Admitted(peeked)


def _pipelined(
    slots: list[str], hold_seconds: float, limit: Limit | None, peek: str
) -> tuple[int | None, list[bool], Any]:
    """One round trip: the limit's hit, each slot, the peek (``CacheUnavailable`` when Redis
    does not answer)."""
    key = cache.make_and_validate_key
    hold_ms = int(hold_seconds * 1000)

    def commands(client: Any, _: str) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        if limit is not None:
            bucket = limit.bucket()
            pipe.set(key(bucket), 0, nx=True, ex=limit.seconds + 1).incr(key(bucket))
        for slot in slots:
            pipe.set(key(slot), 1, nx=True, px=hold_ms)
        if peek:
            pipe.get(key(peek))
        return pipe.execute()

    results = cache.run(slots[0] if slots else peek, commands)
    over = None
    if limit is not None:
        count, results = results[1], results[2:]
        over = limit.over(count)
    taken = [bool(result) for result in results[: len(slots)]]
    peeked = _loaded(results[len(slots)]) if peek else None
    return over, taken, peeked


def _one_by_one(
    slots: list[str], hold_seconds: float, limit: Limit | None, peek: str
) -> tuple[int | None, list[bool], Any]:
    over = limit.hit() if limit is not None else None
    taken = [] if over is not None else [cache.add(s, 1, timeout=hold_seconds) for s in slots]
    taken += [False] * (len(slots) - len(taken))
    return over, taken, cache.get(peek) if peek else None


def _loaded(value: bytes | None) -> Any:
    """A value as the cache wrote it (an int stays an int in Django's Redis cache)."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # not a counter: callers peek at counters only


def _take(cap: Cap, hold_seconds: float) -> str:
    first = random.randrange(cap.count)  # noqa: S311 (spreads callers over the slots)
    for offset in range(cap.count):
        slot = _slot(cap, (first + offset) % cap.count)
        if cache.add(slot, 1, timeout=hold_seconds):
            return slot
    raise CapReached(cap)


def held(cap: Cap) -> int:
    """How many of the cap's slots are held now (one read of them all)."""
    return len(cache.get_many([_slot(cap, n) for n in range(cap.count)]))


def _slot(cap: Cap, n: int) -> str:
    return f"onramp:in-flight:{cap.key}:{n}"
