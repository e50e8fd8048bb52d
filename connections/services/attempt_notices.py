"""The end of a check, told to the submit that started it, so a quick check's result shows at
once instead of at the progress screen's next poll.

The run, once its result is committed, pushes the attempt's final status onto a short-lived
Redis list; the submit waits on that list for a moment (``BLPOP``: no query, no CPU), then
answers with the done screen, the failure, or the progress screen if the check is still
running. Best effort: without Redis (the embedded default runs checks inline, so the result
is in the cache before anyone asks) or while it fails, nobody waits and the progress screen
polls as before.
"""

from __future__ import annotations

import logging
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction

from connections.models import ValidationAttempt

logger = logging.getLogger(__name__)
KEPT_SECONDS = 60  # a notice nobody waits for expires
CONNECT_TIMEOUT = 0.25
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def attempt_notice_send(*, attempt_id: str, status: str) -> None:
    """Tell a waiting submit that the attempt ended with ``status`` (after its commit)."""
    key = _key(attempt_id)
    client = _client(settings.REDIS_URL)
    if client is None:
        django_cache.set(key, status, KEPT_SECONDS)
        return
    try:
        client.pipeline().rpush(key, status).expire(key, KEPT_SECONDS).execute()
    except REDIS_ERRORS:
        logger.warning("could not announce the end of attempt %s", attempt_id)


def attempt_notice_wait(*, attempt: ValidationAttempt, seconds: float) -> str:
    """The status the attempt ended with, if that is told within ``seconds``; else ''.

    No wait for an attempt that was not handed to a worker: the broker did not take it
    (``dispatched_at`` empty), or the transaction that stores it is still open (it is sent
    when that commits).
    """
    if attempt.dispatched_at is None or transaction.get_connection().in_atomic_block:
        return ""
    key = _key(attempt.id)
    client = _client(settings.REDIS_URL)
    if client is None:
        return django_cache.get(key) or ""
    try:
        found = client.blpop([key], timeout=seconds)
    except REDIS_ERRORS:
        return ""
    return found[1].decode() if found else ""


def _key(attempt_id: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'onramp')}:attempt-ended:{attempt_id}"


@cache
def _client(url: str) -> redis.Redis | None:
    """One client per process (it pools its connections); its reads outlast any wait."""
    if not url:
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=5)
