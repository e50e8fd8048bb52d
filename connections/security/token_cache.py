"""Connection access tokens resolved from the cache: introspection and the proxy check a token
on every request, so they must cost a cache read, not a database join.

Each entry carries the *generation* of its token, read before the database was: changing a
connection (revoked, rotated, invalid, reconnected) bumps the generation of each of its
tokens once the change commits, so an entry written from an older read no longer matches
and the next request goes to the database. A revoked or rotated token stops at once.
Entries hold what the database holds (credentials as ciphertext), for five minutes at most.

When Redis cannot be reached, tokens are checked against the database, and a change whose
generations could not be bumped marks its connection (``token_cache_stale_since``): the
sweeper (beat) bumps them once Redis answers again, so an entry written before the outage
cannot outlive a revocation made during it by more than a sweep interval.
"""

from __future__ import annotations

import contextlib
import secrets
from functools import partial
from typing import Any

from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from config.cache import CacheUnavailable
from connections.models import Connection, ConnectionToken

TTL = 300
cache = caches["tokens"]
FIELDS = ("id", "partner_id", "system_id", "method", "status", "end_user_id", "config")


def _entry_key(digest: str) -> str:
    return f"onramp:ct:{digest}"


def _generation_key(digest: str) -> str:
    return f"onramp:ctg:{digest}"


def cached_token(digest: str) -> tuple[dict[str, Any] | None, int | None]:
    """The cached entry (None when absent or stale) and the current generation."""
    keys = [_entry_key(digest), _generation_key(digest)]
    try:
        found = cache.get_many(keys)
    except CacheUnavailable:
        return None, None  # the database answers
    entry, generation = found.get(keys[0]), found.get(keys[1])
    if entry is None or generation is None or entry["generation"] != generation:
        return None, generation
    return entry, generation


def remember_token(digest: str, token: ConnectionToken, generation: int | None) -> None:
    with contextlib.suppress(CacheUnavailable):  # not cached: the next check reads the database
        _remember(digest, token, generation)


def _remember(digest: str, token: ConnectionToken, generation: int | None) -> None:
    if generation is None:  # a fresh, random generation: no old entry can match it
        cache.add(_generation_key(digest), secrets.randbits(62), timeout=None)
        generation = cache.get(_generation_key(digest))
        if generation is None:
            return
    connection = token.connection
    entry = {field: getattr(connection, field) for field in FIELDS}
    entry |= {
        "credentials": connection.credentials,
        "token_id": token.id,
        "token_last_used_at": token.last_used_at,
        "generation": generation,
    }
    cache.set(_entry_key(digest), entry, timeout=TTL)


def connection_from(entry: dict[str, Any]) -> Connection:
    """A read-only ``Connection`` rebuilt from an entry (no query)."""
    connection = Connection(**{field: entry[field] for field in FIELDS})
    connection.credentials = entry["credentials"]
    connection._state.adding, connection._state.db = False, "default"
    return connection


def forget_connection(connection_id: str) -> None:
    """Every cached token of the connection is stale: now, and again once the change commits
    (a request that read the database before the commit may have cached the old state)."""
    _bump_or_mark(connection_id)
    transaction.on_commit(partial(_bump_or_mark, connection_id))


def _bump_or_mark(connection_id: str) -> None:
    try:
        _bump(connection_id)
    except CacheUnavailable:  # the sweeper bumps them once Redis is back
        Connection.objects.filter(pk=connection_id).update(token_cache_stale_since=timezone.now())


def _bump(connection_id: str) -> None:
    digests = ConnectionToken.objects.filter(connection_id=connection_id).values_list(
        "digest", flat=True
    )
    for digest in digests:
        key = _generation_key(digest)
        try:
            cache.incr(key)
        except ValueError:  # never cached, or evicted: an entry without it is stale anyway
            cache.delete(_entry_key(digest))


def stale_entries_sweep(*, batch: int = 500) -> int:
    """Bump the generations an outage kept from being bumped (Celery beat); return how many
    connections were done. Redis still down: nothing changes, the next sweep tries again."""
    stale = Connection.objects.exclude(token_cache_stale_since=None).values_list(
        "pk", "token_cache_stale_since"
    )
    done = 0
    for connection_id, since in stale[:batch]:
        try:
            _bump(connection_id)
        except CacheUnavailable:
            break
        Connection.objects.filter(pk=connection_id, token_cache_stale_since=since).update(
            token_cache_stale_since=None
        )
        done += 1
    return done
