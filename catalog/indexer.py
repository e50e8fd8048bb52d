"""Write the catalog's search index (``catalog/index.py`` reads it): once per catalog version,
by a worker, into one buffer of flat arrays that every web process loads as it is.

The buffer is ``MAGIC``, the length of a JSON layout, the layout (each array's name → its
offset after the layout, size in bytes and array type code) and the arrays, each aligned
to 8 bytes.
"""

from __future__ import annotations

import heapq
import json
import struct
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.utils.translation import override

from catalog.categories import CATEGORIES
from catalog.index import (
    COMING_SOON,
    MAGIC,
    PAST_ANY_WORD,
    PINNED,
    SHORT,
    SHORT_LIMIT,
    deletions,
    fold,
    key_hash,
)


class SystemRow(NamedTuple):
    """What search needs of one listed system (a ``System`` row's fields)."""

    slug: str
    name: str
    vendor: str = ""
    aliases: list | tuple = ()
    categories: list | tuple = ()
    popularity: int = 0
    pinned: bool = False
    logo: str = ""
    coming_soon: bool = False


ROW_FIELDS = SystemRow._fields


def index_bytes(rows: Iterable[SystemRow]) -> bytes:
    """The index of ``rows`` as one buffer (``Index(index_bytes(rows))`` searches them)."""
    systems = sorted(rows, key=lambda row: (not row.pinned, -row.popularity, row.name, row.slug))
    arrays: dict[str, array | bytes] = {}
    arrays |= _systems(systems)
    postings = _postings(systems)
    words = sorted(postings)
    arrays |= _strings("word", words)
    arrays |= _csr("", [postings[word] for word in words])
    arrays |= _short_prefixes(words, arrays)
    arrays |= _typo_keys(words)
    names = sorted((" ".join(fold(row.name)), position) for position, row in enumerate(systems))
    arrays |= _strings("folded", [name for name, _ in names])
    arrays["name_order"] = array("I", [position for _, position in names])
    return _pack(arrays)


def _systems(systems: list[SystemRow]) -> dict[str, array | bytes]:
    categories = sorted({category for row in systems for category in row.categories})
    number = {category: i for i, category in enumerate(categories)}
    starts, ids = array("I", [0]), array("H")
    for row in systems:
        ids.extend(sorted({number[category] for category in row.categories}))
        starts.append(len(ids))
    flags = bytes(PINNED * bool(r.pinned) | COMING_SOON * bool(r.coming_soon) for r in systems)
    by_slug = sorted(range(len(systems)), key=lambda position: systems[position].slug)
    return {
        **_strings("slug", [row.slug for row in systems]),
        **_strings("name", [row.name for row in systems]),
        **_strings("vendor", [row.vendor for row in systems]),
        **_strings("logo", [row.logo for row in systems]),
        **_strings("category", categories),
        "popularity": array("i", [row.popularity for row in systems]),
        "flags": flags,
        "by_slug": array("I", by_slug),
        "entry_categories": starts,
        "category_ids": ids,
    }


def _postings(systems: list[SystemRow]) -> dict[str, dict[int, int]]:
    """Each word → the systems it is found in (ascending) → its best weight there: 3 in the
    name, 2 in the vendor, slug or an alias, 1 in a category."""
    postings: dict[str, dict[int, int]] = defaultdict(dict)
    for position, row in enumerate(systems):
        others = (row.vendor, row.slug.replace("-", " "), *row.aliases)
        weights = dict.fromkeys((w for c in row.categories for w in _category_words(c)), 1)
        weights.update(dict.fromkeys((w for text in others for w in fold(text)), 2))
        weights.update(dict.fromkeys(fold(row.name), 3))  # the best place overwrites the rest
        for word, weight in weights.items():
            postings[word][position] = weight
    return postings


def _category_words(category: str) -> list[str]:
    """A category's slug and the words of its English label: "maintenance" finds the CMMS."""
    with override("en"):
        label = str(CATEGORIES.get(category, ""))
    return fold(f"{category} {label}")


def _short_prefixes(words: list[str], arrays: dict) -> dict[str, array | bytes]:
    """Prefixes of one or two letters → the most popular systems with a word starting so,
    each with its best weight. A prefix's words are a range of the sorted words, so their
    positions of each weight are one slice of the postings."""
    prefixes = sorted({word[:length] for word in words for length in range(1, SHORT + 1)})
    cut = []
    for prefix in prefixes:
        first, end = bisect_left(words, prefix), bisect_left(words, prefix + PAST_ANY_WORD)
        best: dict[int, int] = {}
        for weight in (1, 2, 3):  # the best weight written last
            starts, hits = arrays[f"starts{weight}"], arrays[f"hits{weight}"]
            best.update(dict.fromkeys(hits[starts[first] : starts[end]], weight))
        cut.append({p: best[p] for p in heapq.nsmallest(SHORT_LIMIT, best)})  # most popular
    return _strings("short", prefixes) | _csr("short_", cut)


def _typo_keys(words: list[str]) -> dict[str, array]:
    """Each word under the hash of itself and, from four letters, of its deletions (sorted by
    hash, as one integer each: hash, then the word's number in the low 32 bits)."""
    keys = sorted(
        key_hash(key) << 32 | number
        for number, word in enumerate(words)
        for key in ({word} | (deletions(word) if len(word) >= 4 else set()))
    )
    return {
        "typo_keys": array("I", [key >> 32 for key in keys]),
        "typo_words": array("I", [key & 0xFFFFFFFF for key in keys]),
    }


def _strings(name: str, values: list[str]) -> dict[str, array | bytes]:
    encoded = [value.encode() for value in values]
    ends = array("I", [0])
    for value in encoded:
        ends.append(ends[-1] + len(value))
    return {name: b"".join(encoded), f"{name}.ends": ends}


def _csr(prefix: str, rows: list[dict[int, int]]) -> dict[str, array]:
    """Rows of (position → weight) as flat arrays, one pair per weight: ``{prefix}hits3``
    holds each row's positions of weight 3 in turn (ascending), ``{prefix}starts3`` where
    each row's begin; so the rows of a range of words (a prefix's) are one slice."""
    starts = {weight: array("I", [0]) for weight in (3, 2, 1)}
    hits = {weight: array("I") for weight in (3, 2, 1)}
    for row in rows:
        for position, weight in row.items():  # positions come in ascending order
            hits[weight].append(position)
        for weight in (3, 2, 1):
            starts[weight].append(len(hits[weight]))
    found: dict[str, array] = {}
    for weight in (3, 2, 1):
        found |= {f"{prefix}starts{weight}": starts[weight], f"{prefix}hits{weight}": hits[weight]}
    return found


def _pack(arrays: dict[str, array | bytes]) -> bytes:
    layout, chunks, offset = {}, [], 0
    for name, values in arrays.items():
        raw = values.tobytes() if isinstance(values, array) else values
        typecode = values.typecode if isinstance(values, array) else "B"
        layout[name] = (offset, len(raw), typecode)
        padding = -len(raw) % 8
        chunks.append(raw + b"\0" * padding)
        offset += len(raw) + padding
    header = json.dumps(layout).encode()
    head = MAGIC + struct.pack("<I", len(header)) + header
    return head + b"\0" * (-len(head) % 8) + b"".join(chunks)
