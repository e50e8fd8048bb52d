"""Fixed-window counters in the cache (Redis in production), for limits and lockouts."""

from django.core.cache import cache


def count_hit(key: str, window: int) -> int:
    """Count one hit on ``key`` in a window of ``window`` seconds; return the count so far."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr: a new window starts
        cache.set(key, 1, timeout=window)
        return 1


def hits(key: str) -> int:
    return cache.get(key, 0)
