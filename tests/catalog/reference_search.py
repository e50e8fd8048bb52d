"""The catalog search as it was before the shared index (issue 17), kept as the reference
the compact index must agree with: a dictionary per word, a Python object per system."""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from catalog.index import fold
from catalog.indexer import _category_words

SHORT = 2
SHORT_LIMIT = 200
NAME_START_BONUS = 4
WEIGHTS = {"name": 3, "other": 2, "category": 1}


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
    words += [(w, "category") for category in categories for w in _category_words(category)]
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
