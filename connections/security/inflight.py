"""Caps on calls in flight (the proxy's, per connection and per remote host), shared by every
process through the cache.

A cap of ``n`` is ``n`` slots, each a cache key taken with ``add`` (atomic: set if absent) and
given back with ``delete`` when the call ends. A slot whose holder died lapses after
``hold_seconds``, which callers size to outlast their longest call. While Redis cannot be
reached the cache degrades to this process's memory, and the caps hold per process.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Cap:
    """At most ``count`` calls at once under ``key``."""

    key: str
    count: int


class CapReached(Exception):
    def __init__(self, cap: Cap) -> None:
        super().__init__(cap.key)
        self.cap = cap


@contextmanager
def in_flight(*caps: Cap, hold_seconds: float) -> Iterator[None]:
    """Hold a slot of each cap for the block; ``CapReached`` (holding none) when one is full."""
    held: list[str] = []
    try:
        for cap in caps:
            held.append(_take(cap, hold_seconds))
        yield
    finally:
        cache.delete_many(held)


def _take(cap: Cap, hold_seconds: float) -> str:
    token = uuid.uuid4().hex
    first = random.randrange(cap.count)  # noqa: S311 (spreads callers over the slots)
    for offset in range(cap.count):
        slot = _slot(cap, (first + offset) % cap.count)
        if cache.add(slot, token, timeout=hold_seconds):
            return slot
    raise CapReached(cap)


def held(cap: Cap) -> int:
    """How many of the cap's slots are held now (one read of them all)."""
    return len(cache.get_many([_slot(cap, n) for n in range(cap.count)]))


def _slot(cap: Cap, n: int) -> str:
    return f"onramp:in-flight:{cap.key}:{n}"
