"""Search as you type over the catalog, from an index built once and shared by every process.

Every keystroke of the choose screen searches; a ``LIKE`` over every row does not scale, and
neither does every web process building its own index (seconds and hundreds of megabytes at
50,000 systems). So a change to the catalog (``catalog_changed()``: a sync, an operator's
switch) has a worker build the index once, as flat arrays in one buffer
(``catalog/indexer.py``), store it and announce it (``catalog/store.py``). Each web process
loads the announced index in a thread of its own and keeps answering from the one it has
until the new one is ready: a keystroke costs one cache read, never a query or a wait
(``ONRAMP_CATALOG_REBUILD_BEHIND``; tests load in line, inside their transaction). The old
index's memory goes back to the system whole, so a process stays the same size across
changes. What a query matches and how results rank: ``catalog/index.py``.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Iterable

from django.conf import settings
from django.db import connection as db_connection
from kombu.exceptions import KombuError

from catalog.index import Entry, Index, fold
from catalog.store import (
    search_index_announced,
    search_index_publish,
    search_index_read,
    search_index_version,
)
from catalog.tasks import catalog_index_build

__all__ = ["Entry", "Index", "catalog_changed", "fold", "search_entries", "search_systems"]
logger = logging.getLogger(__name__)
RECHECK_SECONDS = 60.0
UNREADABLE = (TypeError, ValueError, zlib.error)  # a stored index gone, or in another format


def catalog_changed() -> None:
    """Have the index of the catalog as it now is built and announced to every process (after
    a sync or an operator's change, once committed). A worker builds it; without a broker the
    caller does, rather than leave search on the old catalog."""
    try:
        catalog_index_build.apply_async(retry=False)
    except (KombuError, OSError):
        logger.warning("could not send the catalog index build to the broker: building here")
        search_index_publish()


def search_systems(
    query: str, *, allowed: Iterable[str] | None = None, category: str = "", limit: int = 50
) -> list[str]:
    """The slugs of listed systems matching ``query`` (the most popular when empty), best
    first; only ``allowed`` ones and, given a ``category``, only systems in it."""
    found = search_entries(query, allowed=allowed, category=category, limit=limit)
    return [entry.slug for entry in found]


def search_entries(
    query: str, *, allowed: Iterable[str] | None = None, category: str = "", limit: int = 50
) -> list[Entry]:
    """As ``search_systems``, the systems themselves (what a result card shows)."""
    allow = frozenset(allowed) if allowed else None
    return current_index().search(query[:100], allow, category, limit)


def listed_entry(slug: str) -> Entry | None:
    """A listed system as search knows it (what a screen shows of it), or None: no query."""
    return current_index().listed(slug)


def system_categories(*, allowed: Iterable[str] | None = None) -> frozenset[str]:
    """The categories of the listed systems (of ``allowed`` ones when given)."""
    return current_index().categories(frozenset(allowed) if allowed else None)


def current_index() -> Index:
    """This process's index of the latest catalog version it heard of (see ``LoadedIndex``)."""
    return this_process.current()


class LoadedIndex:
    """One process's copy of the shared index. It checks the announcement on each use (a
    cache read); when one it has not handled arrives, a thread reads the stored version and
    loads it if new, while searches go on with the index in hand (the old one is freed, as
    one block, when its last search ends). Only a process with no index at all waits, and
    only a process that finds none stored builds one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: tuple[str, Index] | None = None  # (stored version, index), swapped whole
        self._heard = ""  # the last announcement acted on
        self._loading = False
        self._checked_at = 0.0  # when the stored version was last read (monotonic)

    @property
    def version(self) -> str:
        return self._loaded[0] if self._loaded else ""

    def current(self) -> Index:
        announced = search_index_announced()
        loaded, behind = self._loaded, settings.ONRAMP_CATALOG_REBUILD_BEHIND
        if loaded is not None and announced == self._heard and not (behind and self._due()):
            return loaded[1]
        if loaded is not None and behind:
            self._load_behind(announced)
            return loaded[1]
        with self._lock:
            if self._loaded is None or announced != self._heard:
                self._load(announced)
            return self._loaded[1]

    def _load(self, announced: str) -> None:
        stored = search_index_version()
        if stored is None:  # never built (a new installation): build it here, once
            stored = search_index_publish()
        if self._loaded is None or stored != self._loaded[0]:
            self._loaded = _read_stored()
        self._heard, self._checked_at = announced, time.monotonic()

    def _due(self) -> bool:
        """Time to check the stored version unasked: an announcement lost (Redis out while
        an operator changed the catalog) delays a change by ``RECHECK_SECONDS`` at most."""
        return time.monotonic() - self._checked_at > RECHECK_SECONDS

    def _load_behind(self, announced: str) -> None:
        with self._lock:
            if self._loading:
                return
            self._loading = True
        thread = threading.Thread(target=self._load_in_thread, args=(announced,), daemon=True)
        thread.name = "catalog-index"
        thread.start()

    def _load_in_thread(self, announced: str) -> None:
        try:
            self._load(announced)
        except Exception:
            logger.exception("the catalog index could not be loaded; the old one still serves")
        finally:
            self._loading = False
            db_connection.close()  # this thread's own


def _read_stored() -> tuple[str, Index]:
    """The stored index, loaded; rebuilt first when it is in a format this release does not
    read (stored by another release)."""
    try:
        found = search_index_read()
        return found[0], Index(found[1])
    except UNREADABLE:
        logger.warning("the stored catalog index could not be read: building it again")
        search_index_publish()
        found = search_index_read()
        return found[0], Index(found[1])


this_process = LoadedIndex()
