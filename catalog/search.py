"""Search as you type over the catalog: an in-memory index per process.

Every keystroke of the choose screen searches; a ``LIKE`` over every row does not scale. The
index is built once per process from the listed systems (and rebuilt when the catalog's
version changes: ``catalog_changed()`` after a sync or an operator's edit). Each system's
name, vendor, slug, aliases and categories are folded (case, accents) into words. A query's
words must all match, each one exactly, as a prefix, or within one typo (a deletion index,
so ``netsute`` finds NetSuite and ``buisness`` Business Central); results rank by how well
they match, then by popularity.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import threading
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection as db_connection

from catalog.models import System

logger = logging.getLogger(__name__)

VERSION_KEY = "onramp:catalog:version"
SHORT = 2  # prefixes this short are answered from a precomputed list of the most popular
SHORT_LIMIT = 200
NAME_START_BONUS = 4
WEIGHTS = {"name": 3, "other": 2, "category": 1}  # where a word was found
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> list[str]:
    """Lower-case words without accents: ``Sage Intacct — Épicerie`` → sage, intacct, epicerie."""
    if text.isascii():
        return _WORD.findall(text.lower())
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _WORD.findall(plain)


@dataclass(frozen=True)
class Entry:
    """One listed system as search knows it, with what a result card shows (so results need
    no query)."""

    slug: str
    name: str
    popularity: int
    pinned: bool
    words: tuple[tuple[str, str], ...]  # (word, field kind)
    folded_name: str
    categories: frozenset[str]
    vendor: str = ""
    logo: str = ""
    coming_soon: bool = False


class Index:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.postings: dict[str, dict[int, int]] = defaultdict(dict)
        for position, entry in enumerate(entries):
            for word, kind in entry.words:
                weight = WEIGHTS[kind]
                if self.postings[word].get(position, 0) < weight:
                    self.postings[word][position] = weight
        self.words = sorted(self.postings)
        self.deletions = _deletion_index(self.words)
        self.popular = sorted(range(len(entries)), key=self._rank_key)
        self.order = [0] * len(entries)
        for rank, position in enumerate(self.popular):
            self.order[position] = rank
        self.short = self._short_prefixes()
        self.by_slug = {entry.slug: entry for entry in entries}
        self.all_categories: frozenset[str] = frozenset().union(*(e.categories for e in entries))
        self.names = sorted((entry.folded_name, p) for p, entry in enumerate(entries))

    def _rank_key(self, position: int) -> tuple:
        entry = self.entries[position]
        return (not entry.pinned, -entry.popularity, entry.name)

    def _short_prefixes(self) -> dict[str, dict[int, int]]:
        found: dict[str, dict[int, int]] = defaultdict(dict)
        for word, hits in self.postings.items():
            for length in range(1, SHORT + 1):
                prefix = found[word[:length]]
                for position, weight in hits.items():
                    prefix[position] = max(prefix.get(position, 0), weight)
        return {
            prefix: dict(sorted(hits.items(), key=lambda hit: self.order[hit[0]])[:SHORT_LIMIT])
            for prefix, hits in found.items()
        }

    def search(
        self, query: str, allowed: frozenset[str] | None, category: str, limit: int
    ) -> list[Entry]:
        def wanted(entry: Entry) -> bool:
            return (allowed is None or entry.slug in allowed) and (
                not category or category in entry.categories
            )

        terms = fold(query)[:6]
        if not terms:
            found = (self.entries[p] for p in self.popular if wanted(self.entries[p]))
            return list(itertools.islice(found, limit))
        # Filtered searches cannot trust the short prefixes' most-popular cut: scan them all.
        scores = self._scores(terms, exhaustive=allowed is not None or bool(category))
        if allowed is not None or category:
            scores = {p: s for p, s in scores.items() if wanted(self.entries[p])}
        for position in self._names_starting(" ".join(terms)):
            if position in scores:  # the name begins with the query: the best match there is
                scores[position] += NAME_START_BONUS
        return [self.entries[p] for p in self._top(scores, limit)]

    def categories(self, allowed: frozenset[str] | None) -> frozenset[str]:
        """The categories of the systems offered."""
        if allowed is None:
            return self.all_categories
        found = (self.by_slug[slug] for slug in allowed if slug in self.by_slug)
        return frozenset().union(*(entry.categories for entry in found))

    def _names_starting(self, phrase: str) -> list[int]:
        """Systems whose name begins with ``phrase``; none when so many do that it tells
        them apart no better than popularity."""
        start = bisect_left(self.names, (phrase,))
        found = []
        for name, position in self.names[start : start + SHORT_LIMIT + 1]:
            if not name.startswith(phrase):
                return found
            found.append(position)
        return found if len(found) <= SHORT_LIMIT else []

    def _top(self, scores: dict[int, int], limit: int) -> list[int]:
        """The ``limit`` best positions: highest score first, then the popular order."""
        top: list[int] = []
        for score in sorted(set(scores.values()), reverse=True):
            tied = sorted(self.order[p] for p, value in scores.items() if value == score)
            top += [self.popular[rank] for rank in tied[: limit - len(top)]]
            if len(top) >= limit:
                break
        return top

    def _scores(self, terms: list[str], *, exhaustive: bool = False) -> dict[int, int]:
        total: dict[int, int] | None = None
        for term in terms:
            hits = self._term(term, exhaustive=exhaustive)
            if total is None:
                total = hits
            else:
                total = {p: s + hits[p] for p, s in total.items() if p in hits}
            if not total:
                return {}
        return total or {}

    def _term(self, term: str, *, exhaustive: bool = False) -> dict[int, int]:
        """Each system's best match of one word: exact (x3), prefix (x2), one typo (x1)."""
        matches: list[tuple[dict[int, int], int]] = []
        if len(term) <= SHORT and not exhaustive:
            matches.append((self.short.get(term, {}), 2))
        else:
            start = bisect_left(self.words, term)
            while start < len(self.words) and self.words[start].startswith(term):
                word = self.words[start]
                matches.append((self.postings[word], 3 if word == term else 2))
                start += 1
        if len(term) >= 4:
            matches += [(self.postings[w], 1) for w in _one_typo_away(term, self.deletions)]
        return _best_of(matches)


def _best_of(matches: list[tuple[dict[int, int], int]]) -> dict[int, int]:
    """Each position's highest weight times factor over several postings (largest taken first)."""
    if not matches:
        return {}
    matches.sort(key=lambda match: len(match[0]), reverse=True)
    hits, factor = matches[0]
    best = {position: weight * factor for position, weight in hits.items()}
    for hits, factor in matches[1:]:
        for position, weight in hits.items():
            score = weight * factor
            if best.get(position, 0) < score:
                best[position] = score
    return best


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _deletion_index(words: list[str]) -> dict[str, list[str]]:
    """Each word under itself and, from four letters, under each of its one-letter deletions."""
    index: dict[str, list[str]] = defaultdict(list)
    for word in words:
        index[word].append(word)
        if len(word) >= 4:
            for deleted in _deletions(word):
                index[deleted].append(word)
    return index


def _one_typo_away(term: str, deletions: dict[str, list[str]]) -> set[str]:
    """Words one insertion, deletion, substitution or swap away (symmetric deletes)."""
    found = set(deletions.get(term, ()))
    for deleted in _deletions(term):
        found.update(deletions.get(deleted, ()))
    found.discard(term)
    return found


# --- the per-process index ---------------------------------------------------------------

_lock = threading.Lock()
_built: tuple[object, Index] | None = None
_rebuilding = False


def catalog_changed() -> None:
    """Tell every process to rebuild its index (after a sync or an operator's change). This
    process builds it on its next search (the operator sees the change at once); the others
    rebuild in the background and keep serving the old index meanwhile."""
    global _built
    cache.set(VERSION_KEY, secrets.randbits(48), timeout=None)
    _built = None


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
    return current_index().by_slug.get(slug)


def system_categories(*, allowed: Iterable[str] | None = None) -> frozenset[str]:
    """The categories of the listed systems (of ``allowed`` ones when given)."""
    return current_index().categories(frozenset(allowed) if allowed else None)


def current_index() -> Index:
    """This process's index of the current catalog version. A process with an older one
    keeps answering from it while a thread builds the new one (a search never waits for a
    rebuild: at 50,000 systems one takes seconds), when ``ONRAMP_CATALOG_REBUILD_BEHIND``."""
    global _built
    version = cache.get(VERSION_KEY)
    if version is None:  # never set, or evicted: start a new version nobody has built
        cache.add(VERSION_KEY, secrets.randbits(48), timeout=None)
        version = cache.get(VERSION_KEY)
    built = _built
    if built is not None and built[0] == version:
        return built[1]
    if built is not None and settings.ONRAMP_CATALOG_REBUILD_BEHIND:
        _rebuild_behind(version)
        return built[1]
    with _lock:
        if _built is None or _built[0] != version:
            _built = (version, _build())
        return _built[1]


def _rebuild_behind(version: object) -> None:
    global _rebuilding
    with _lock:
        if _rebuilding:
            return
        _rebuilding = True
    threading.Thread(target=_rebuild, args=(version,), name="catalog-index", daemon=True).start()


def _rebuild(version: object) -> None:
    global _built, _rebuilding
    try:
        index = _build()
        with _lock:
            _built = (version, index)  # the old index is freed once its last search ends
    except Exception:
        logger.exception("the catalog index could not be rebuilt; the old one still serves")
    finally:
        _rebuilding = False
        db_connection.close()  # this thread's own


def _build() -> Index:
    rows = System.objects.listed().values_list(
        "slug",
        "name",
        "vendor",
        "aliases",
        "categories",
        "popularity",
        "pinned",
        "logo",
        "coming_soon",
    )
    return Index([_entry(*row) for row in rows])


def _entry(
    slug: str,
    name: str,
    vendor: str,
    aliases: list,
    categories: list,
    popularity: int,
    pinned: bool,
    logo: str = "",
    coming_soon: bool = False,
) -> Entry:
    words = [(w, "name") for w in fold(name)]
    words += [
        (w, "other") for text in (vendor, slug.replace("-", " "), *aliases) for w in fold(text)
    ]
    words += [(w, "category") for category in categories for w in fold(category)]
    folded_name = " ".join(fold(name))
    unique = tuple(dict.fromkeys(words))
    return Entry(
        slug,
        name,
        popularity,
        pinned,
        unique,
        folded_name,
        frozenset(categories),
        vendor,
        logo,
        coming_soon,
    )
