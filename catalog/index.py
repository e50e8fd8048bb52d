"""The catalog's search index, read from one buffer of flat arrays (``catalog/indexer.py``
writes it): no Python object per system or per word, so a web process holds one block of
memory per catalog version and gives it back whole when the next version replaces it.

Systems are stored in rank order (pinned first, then by popularity, then by name): a
system's position is its rank, so ties in a search's score are settled by the position.
A query's words must all match, each one exactly (x3), as a prefix (x2) or within one typo
(x1, symmetric deletes looked up by a hash of each deletion and checked against the word);
a word's weight is where it was found (name 3, vendor/slug/alias 2, category 1).
"""

from __future__ import annotations

import itertools
import json
import mmap
import re
import struct
import unicodedata
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import NamedTuple

MAGIC = b"ONRIDX1\n"
SHORT = 2  # prefixes this short are answered from a precomputed list of the most popular
SHORT_LIMIT = 200
NAME_START_BONUS = 4
PINNED, COMING_SOON = 1, 2  # flag bits
PAST_ANY_WORD = "{"  # sorts after every letter and digit a folded word is made of
_WORD = re.compile(r"[a-z0-9]+")
Buffer = bytes | mmap.mmap  # what an index is read from


def fold(text: str) -> list[str]:
    """Lower-case words without accents: ``Sage Intacct — Épicerie`` → sage, intacct, epicerie."""
    if text.isascii():
        return _WORD.findall(text.lower())
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _WORD.findall(plain)


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def key_hash(key: str) -> int:
    """A stable hash of a deletion key (the same in every process, unlike ``hash``)."""
    return zlib.crc32(key.encode())


def one_typo_apart(term: str, word: str) -> bool:
    """Whether symmetric deletes relate ``term`` (4 letters or more) and ``word``: each is
    indexed under itself and, from four letters, under its one-letter deletions."""
    if len(word) == len(term) - 1:
        return word in deletions(term)
    if len(word) < 4:
        return False
    if len(word) == len(term) + 1:
        return term in deletions(word)
    return len(word) == len(term) and bool(deletions(term) & deletions(word))


class Entry(NamedTuple):
    """One listed system as search knows it, with what a result card shows (so results need
    no query). Made for the few systems a search returns, from the index's arrays."""

    slug: str
    name: str
    popularity: int
    pinned: bool
    categories: frozenset[str]
    vendor: str = ""
    logo: str = ""
    coming_soon: bool = False


class Strings:
    """A list of strings as one UTF-8 buffer and the offset where each ends."""

    def __init__(self, text: memoryview, ends: memoryview) -> None:
        self.text, self.ends = text, ends

    def __len__(self) -> int:
        return len(self.ends) - 1

    def __getitem__(self, i: int) -> str:
        return str(self.text[self.ends[i] : self.ends[i + 1]], "utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def bisect(self, value: str, order: memoryview | None = None) -> int:
        """Where ``value`` goes in this sorted list (or in its ``order``, a sorting of it)."""
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if self[order[middle] if order is not None else middle] < value:
                low = middle + 1
            else:
                high = middle
        return low


def unpack(blob: Buffer) -> dict[str, memoryview]:
    """The named arrays of a buffer ``indexer.index_bytes`` wrote, viewed in place."""
    if bytes(blob[: len(MAGIC)]) != MAGIC:
        raise ValueError("not a catalog index")
    (length,) = struct.unpack_from("<I", blob, len(MAGIC))
    start = len(MAGIC) + 4
    layout = json.loads(bytes(blob[start : start + length]))
    start += length + (-(start + length) % 8)  # the arrays begin, aligned, after the layout
    view = memoryview(blob)[start:]
    return {
        name: view[offset : offset + size].cast(typecode)
        for name, (offset, size, typecode) in layout.items()
    }


class Index:
    """A catalog version's search index, over the buffer it was loaded from (views of it, no
    copies): what ``search`` returns is made from the arrays, for the few results only."""

    def __init__(self, blob: Buffer) -> None:
        self.size = len(blob)
        a = unpack(blob)

        def strings(name: str) -> Strings:
            return Strings(a[name], a[f"{name}.ends"])

        self.slugs, self.names, self.vendors = strings("slug"), strings("name"), strings("vendor")
        self.logos, self.category_names = strings("logo"), strings("category")
        self.popularity, self.flags, self.by_slug = a["popularity"], a["flags"], a["by_slug"]
        self.entry_categories, self.category_ids = a["entry_categories"], a["category_ids"]
        self.words, self.short = strings("word"), strings("short")
        self.postings = [(w, a[f"starts{w}"], a[f"hits{w}"]) for w in (3, 2, 1)]
        self.short_postings = [(w, a[f"short_starts{w}"], a[f"short_hits{w}"]) for w in (3, 2, 1)]
        self.typo_keys, self.typo_words = a["typo_keys"], a["typo_words"]
        self.folded_names, self.name_order = strings("folded"), a["name_order"]
        self.category_list = tuple(self.category_names)  # a few words, not one per system
        self.all_categories = frozenset(self.category_list)

    def __len__(self) -> int:
        return len(self.flags)

    def entry(self, position: int) -> Entry:
        flags = self.flags[position]
        return Entry(
            slug=self.slugs[position],
            name=self.names[position],
            popularity=self.popularity[position],
            pinned=bool(flags & PINNED),
            categories=frozenset(self._categories_of(position)),
            vendor=self.vendors[position],
            logo=self.logos[position],
            coming_soon=bool(flags & COMING_SOON),
        )

    def position(self, slug: str) -> int | None:
        """Where the system ``slug`` is, or None when it is not listed."""
        found = self.slugs.bisect(slug, self.by_slug)
        if found < len(self) and self.slugs[self.by_slug[found]] == slug:
            return self.by_slug[found]
        return None

    def listed(self, slug: str) -> Entry | None:
        position = self.position(slug)
        return None if position is None else self.entry(position)

    def search(
        self, query: str, allowed: frozenset[str] | None, category: str, limit: int
    ) -> list[Entry]:
        """The ``limit`` best systems for ``query`` (the most popular when it has no word),
        among ``allowed`` slugs when given and in ``category`` when given."""
        allow = None if allowed is None else {self.position(s) for s in allowed} - {None}
        wanted = self._filter(allow, category)
        terms = fold(query)[:6]
        if not terms:
            everyone = sorted(allow) if allow is not None else range(len(self))
            return [self.entry(p) for p in itertools.islice(filter(wanted, everyone), limit)]
        # Filtered searches cannot trust the short prefixes' most-popular cut: scan them all.
        filtered = allow is not None or bool(category)
        scores = self._scores(terms, exhaustive=filtered)
        if filtered:
            scores = {p: s for p, s in scores.items() if wanted(p)}
        for position in self._names_starting(" ".join(terms)):
            if position in scores:  # the name begins with the query: the best match there is
                scores[position] += NAME_START_BONUS
        return [self.entry(p) for p in _top(scores, limit)]

    def categories(self, allowed: frozenset[str] | None) -> frozenset[str]:
        """The categories of the systems offered."""
        if allowed is None:
            return self.all_categories
        positions = {self.position(slug) for slug in allowed} - {None}
        return frozenset(itertools.chain.from_iterable(map(self._categories_of, positions)))

    def _categories_of(self, position: int) -> list[str]:
        starts = self.entry_categories
        return [
            self.category_list[i]
            for i in self.category_ids[starts[position] : starts[position + 1]]
        ]

    def _filter(self, allow: set[int] | None, category: str) -> Callable[[int], bool]:
        category_id = -1  # a category no system is in: nothing matches it
        if category:
            found = self.category_names.bisect(category)
            known = found < len(self.category_names) and self.category_names[found] == category
            category_id = found if known else -1
        starts, ids = self.entry_categories, self.category_ids

        def wanted(position: int) -> bool:
            if allow is not None and position not in allow:
                return False
            return not category or category_id in ids[starts[position] : starts[position + 1]]

        return wanted

    def _names_starting(self, phrase: str) -> list[int]:
        """Systems whose name begins with ``phrase``; none when so many do that it tells
        them apart no better than popularity."""
        start = self.folded_names.bisect(phrase)
        found = []
        for rank in range(start, min(start + SHORT_LIMIT + 1, len(self))):
            if not self.folded_names[rank].startswith(phrase):
                return found
            found.append(self.name_order[rank])
        return found if len(found) <= SHORT_LIMIT else []

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
        groups: list[tuple[int, memoryview]] = []
        if len(term) <= SHORT and not exhaustive:
            found = self.short.bisect(term)
            if found < len(self.short) and self.short[found] == term:
                groups += _weighed(self.short_postings, found, found + 1, 2)
        else:  # the words that start with the term are a range of the sorted words
            first, end = self.words.bisect(term), self.words.bisect(term + PAST_ANY_WORD)
            if first < end and self.words[first] == term:
                groups += _weighed(self.postings, first, first + 1, 3)
                first += 1
            groups += _weighed(self.postings, first, end, 2)
        if len(term) >= 4:
            for number in self._one_typo_away(term):
                groups += _weighed(self.postings, number, number + 1, 1)
        return _best_of(groups)

    def _one_typo_away(self, term: str) -> set[int]:
        """Words one insertion, deletion, substitution or swap away (symmetric deletes)."""
        candidates: set[int] = set()
        for key in {term} | deletions(term):
            digest = key_hash(key)
            low = bisect_left(self.typo_keys, digest)
            high = bisect_right(self.typo_keys, digest, low)
            candidates.update(self.typo_words[low:high])
        return {w for w in candidates if one_typo_apart(term, self.words[w])}


def _weighed(postings: list, first: int, end: int, factor: int) -> list:
    """The positions of words ``first`` to ``end`` (excluded), in a group per weight, each
    with its score: weight (3, 2, 1) x factor."""
    return [
        (weight * factor, hits[starts[first] : starts[end]])
        for weight, starts, hits in postings
        if starts[first] < starts[end]
    ]


def _best_of(groups: list[tuple[int, memoryview]]) -> dict[int, int]:
    """Each position's highest score over several groups: lowest scores written first, so
    a higher one overwrites them (``dict.update`` does the work, not a Python loop)."""
    if not groups:
        return {}
    groups.sort(key=lambda group: group[0])
    best = dict.fromkeys(groups[0][1].tolist(), groups[0][0])
    for score, positions in groups[1:]:
        best.update(dict.fromkeys(positions.tolist(), score))
    return best


def _top(scores: dict[int, int], limit: int) -> list[int]:
    """The ``limit`` best positions: highest score first, then rank (the position). Two
    sorts in C: by position, then by score (a stable sort keeps the positions' order)."""
    ranked = sorted(scores)
    ranked.sort(key=scores.__getitem__, reverse=True)
    return ranked[:limit]
