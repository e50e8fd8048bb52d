"""Which endpoints are slow, and how many of a worker process's batches may send to one
endpoint, or to slow ones, at once.

A batch holds its Celery thread until its slowest send ends, so a worker process caps its
batches (``Places``): at most ``ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT`` send to one endpoint at
once unless the process saw it answer fast of late (a receiver not yet known to be fast may
turn out slow), and at most ``ONRAMP_WEBHOOK_SLOW_BATCHES`` to endpoints marked *slow* (a send took
``ONRAMP_WEBHOOK_SLOW_AFTER`` seconds or more, or is still running after that long; the mark
lasts ``SLOW_FOR`` seconds, in the cache, which falls back to this process's memory while
Redis is out). Slow receivers never occupy all of a worker's threads: the others stay free
for everyone else's deliveries. A batch turned away leaves its deliveries due; the next batch
to leave its place sends a task for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

SLOW_FOR = 60  # seconds an endpoint stays marked slow after its last slow send


def slow_endpoints(endpoint_ids: Iterable[str]) -> set[str]:
    """Which of these endpoints are marked slow, as read from the cache (which falls back to
    this process's memory while Redis is out) at most ``READ_EVERY`` seconds ago: one read per
    endpoint and second, not one per batch."""
    now, wanted = time.monotonic(), set(endpoint_ids)
    stale = [pk for pk in wanted if now - _read.get(pk, (False, -READ_EVERY))[1] >= READ_EVERY]
    if stale:
        found = cache.get_many([_slow_key(pk) for pk in stale])
        _read.update({pk: (_slow_key(pk) in found, now) for pk in stale})
    return {pk for pk in wanted if _read[pk][0]}


READ_EVERY = 1.0
_read: dict[str, tuple[bool, float]] = {}  # endpoint → (slow, when this process read it)


def slowness_note(durations: dict[str, float]) -> None:
    """Mark each endpoint slow or not by its latest send's seconds (written to the cache when
    this process last wrote otherwise, or over ``REWRITE_AFTER`` seconds ago: one write per
    endpoint now and then, not one per batch)."""
    slow_after, now = settings.ONRAMP_WEBHOOK_SLOW_AFTER, time.monotonic()
    changed = {
        pk: seconds >= slow_after
        for pk, seconds in durations.items()
        if _written.get(pk, (None, 0.0))[0] != (seconds >= slow_after)
        or now - _written[pk][1] > REWRITE_AFTER
    }
    slow = {_slow_key(pk): 1 for pk, is_slow in changed.items() if is_slow}
    fast = [_slow_key(pk) for pk, is_slow in changed.items() if not is_slow]
    if slow:
        cache.set_many(slow, timeout=SLOW_FOR)
    if fast:
        cache.delete_many(fast)
    _written.update({pk: (is_slow, now) for pk, is_slow in changed.items()})
    _read.update({pk: (is_slow, now) for pk, is_slow in changed.items()})


REWRITE_AFTER = 10.0
_written: dict[str, tuple[bool, float]] = {}  # endpoint → (slow, when this process wrote it)


def _fast(endpoint_id: str) -> bool:
    """This process saw the endpoint answer fast within ``SLOW_FOR`` seconds (and not slow
    since)."""
    slow, when = _written.get(endpoint_id, (True, 0.0))
    return not slow and time.monotonic() - when < SLOW_FOR


def _slow_key(endpoint_id: str) -> str:
    return f"onramp:webhooks:slow:{endpoint_id}"


class Places:
    """Which endpoints this process's batches send to: at most
    ``ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT`` batches to one endpoint, and at most
    ``ONRAMP_WEBHOOK_SLOW_BATCHES`` batches to slow ones at once. A batch holds its Celery
    thread until its slowest send ends, so this bounds the threads one receiver can hold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: dict[str, int] = {}
        self._slow = 0
        self._turned_away = False

    def enter(self, endpoints: set[str], slow: set[str]) -> tuple[set[str], bool]:
        """The endpoints a new batch may send to (any number of batches to an endpoint this
        process saw answer fast of late), and whether it took a slow batch's place; any
        other is turned away (noted, for ``leave``)."""
        cap = settings.ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT
        with self._lock:
            allowed = {e for e in endpoints if _fast(e) or self._batches.get(e, 0) < cap}
            took_slow = bool(allowed & slow) and self._slow < settings.ONRAMP_WEBHOOK_SLOW_BATCHES
            if took_slow:
                self._slow += 1
            else:
                allowed -= slow
            self._turned_away = self._turned_away or allowed != endpoints
            for endpoint in allowed:
                self._batches[endpoint] = self._batches.get(endpoint, 0) + 1
            return allowed, took_slow

    def leave(self, endpoints: set[str], *, slow: bool) -> bool:
        """True if a batch was turned away meanwhile (send a task for what it left)."""
        with self._lock:
            for endpoint in endpoints:
                left = self._batches.pop(endpoint, 1) - 1
                if left > 0:
                    self._batches[endpoint] = left
            self._slow -= 1 if slow else 0
            turned_away, self._turned_away = self._turned_away, False
            return turned_away


places = Places()
