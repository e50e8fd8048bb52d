"""Django's Redis cache, made to degrade instead of failing when Redis cannot be reached.

``PooledRedisCache``: Django's client builds ``redis.Redis(connection_pool=…)`` on every call,
and that constructor fills a table of ~170 response callbacks: about a quarter of a
millisecond each time, four times per token check and proxied call. One client per pool is
enough (they are thread-safe).

``SharedRedisCache`` (the ``tokens`` alias): an operation Redis cannot answer (refused,
timed out) raises ``CacheUnavailable``, and for ``RETRY_SECONDS`` after it every operation
raises at once, without waiting on a dead server's timeout; then Redis is tried again. Its
callers must decide what an outage means (the token cache reads the database instead).

``DegradingRedisCache`` (the ``default`` alias): the same, but while Redis is unavailable each
operation uses this process's memory instead, so rate limits count per process, the catalog's
version is local and kept sessions are per process (the README lists what holds during an
outage).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_SECONDS = 5.0
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


class CacheUnavailable(Exception):
    """Redis could not be reached (or failed a moment ago and is left alone for a while)."""


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class PooledRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient


class _Outage:
    """When each Redis server (by location) last failed, shared by this process's caches."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def ongoing(self, location: str) -> bool:
        return self._until.get(location, 0.0) > time.monotonic()

    def begin(self, location: str, error: Exception) -> None:
        with self._lock:
            if not self.ongoing(location):
                logger.warning("cache unreachable (%s): degrading", type(error).__name__)
            self._until[location] = time.monotonic() + RETRY_SECONDS


OUTAGES = _Outage()


class SharedRedisCache(PooledRedisCache):
    def _strictly(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        if OUTAGES.ongoing(self._location):
            raise CacheUnavailable(self._location)
        try:
            return getattr(PooledRedisCache, operation)(self, *args, **kwargs)
        except REDIS_ERRORS as exc:
            OUTAGES.begin(self._location, exc)
            raise CacheUnavailable(self._location) from None

    @property
    def _location(self) -> str:
        return str(self._servers[0])

    def run(self, name: str, commands: Callable[[Any, str], T]) -> T:
        """``commands(client, key)`` on Redis itself, for what the cache API cannot say (a
        sorted set); ``key`` is ``name`` with this cache's prefix. Under the outage rule:
        ``CacheUnavailable`` when Redis cannot answer, whatever the subclass."""
        key = self.make_and_validate_key(name)
        if OUTAGES.ongoing(self._location):
            raise CacheUnavailable(self._location)
        try:
            return commands(self._cache.get_client(key, write=True), key)
        except REDIS_ERRORS as exc:
            OUTAGES.begin(self._location, exc)
            raise CacheUnavailable(self._location) from None


class DegradingRedisCache(SharedRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._local = LocMemCache(f"degraded:{server}", {"KEY_PREFIX": self.key_prefix})

    def _degrading(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._strictly(operation, *args, **kwargs)
        except CacheUnavailable:
            return getattr(self._local, operation)(*args, **kwargs)


def _strict(operation: str) -> Any:
    def method(self: SharedRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._strictly(operation, *args, **kwargs)

    method.__name__ = operation
    return method


def _degrading(operation: str) -> Any:
    def method(self: DegradingRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(operation, *args, **kwargs)

    method.__name__ = operation
    return method


# Every public operation of Django's cache API goes through the outage rule (the others,
# such as ``decr`` and ``get_or_set``, are built on these).
for _operation in OPERATIONS:
    setattr(SharedRedisCache, _operation, _strict(_operation))
    setattr(DegradingRedisCache, _operation, _degrading(_operation))
