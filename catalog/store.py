"""Where the search index is shared: built once per catalog version, stored in the database
(one ``SearchIndex`` row), announced through the cache (``VERSION_KEY``).

A worker builds (``search_index_publish``, the task ``catalog_index_build``); web processes
only read what was built (``search_index_version``, ``search_index_read``). Builds take the
row's lock, so two in a row store the later catalog last; each announces itself after its
commit, and a process that hears of any announcement reads which version is stored.
"""

from __future__ import annotations

import logging
import mmap
import secrets
import zlib

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from catalog.indexer import ROW_FIELDS, SystemRow, index_bytes
from catalog.models import SearchIndex, System

logger = logging.getLogger(__name__)

VERSION_KEY = "onramp:catalog:version"
CHUNK = 1 << 18  # compressed bytes inflated at a time


def search_index_publish() -> str:
    """Build the index of the listed systems, store it as the current one and tell every
    process to load it; its version. Serialised by the stored row's lock: a build waits for
    the one under way, then reads the catalog as it is after it."""
    with transaction.atomic():
        stored, _ = SearchIndex.objects.select_for_update().get_or_create(
            pk=1, defaults={"version": "", "data": b"", "built_at": timezone.now()}
        )
        rows = [SystemRow(*row) for row in System.objects.listed().values_list(*ROW_FIELDS)]
        buffer = index_bytes(rows)
        stored.data, stored.size = zlib.compress(buffer, 1), len(buffer)
        stored.version, stored.systems = secrets.token_hex(8), len(rows)
        stored.built_at = timezone.now()
        stored.save()
    search_index_announce(stored.version)
    logger.info("catalog index %s built: %d systems", stored.version, len(rows))
    return stored.version


def search_index_announce(version: str) -> None:
    """Tell every process a new index may be stored (they read which, off the request path)."""
    cache.set(VERSION_KEY, version, timeout=None)


def search_index_announced() -> str:
    """The latest announcement (one cache read, no query); a new one when the cache lost it,
    so every process checks what is stored once."""
    announced = cache.get(VERSION_KEY)
    if announced is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
        announced = cache.get(VERSION_KEY)
    return str(announced)


def search_index_version() -> str | None:
    """The version stored, or None when no index was ever built."""
    return SearchIndex.objects.filter(pk=1).values_list("version", flat=True).first()


def search_index_read() -> tuple[str, mmap.mmap] | None:
    """The stored index: its version and its buffer (for ``catalog.index.Index``), in memory
    mapped for it alone, so that the process gives it back whole when it is replaced."""
    row = SearchIndex.objects.filter(pk=1).values_list("version", "size", "data").first()
    if row is None:
        return None
    version, size, data = row
    buffer, inflate, compressed = (
        mmap.mmap(-1, max(size, 1)),
        zlib.decompressobj(),
        memoryview(data),
    )
    for start in range(0, len(compressed), CHUNK):  # a chunk at a time: no second whole copy
        buffer.write(inflate.decompress(compressed[start : start + CHUNK]))
    buffer.write(inflate.flush())
    return version, buffer
