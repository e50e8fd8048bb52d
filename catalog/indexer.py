"""Write the catalog's search index (``catalog/index.py`` reads it): once per catalog version,
by a worker, into one buffer of flat arrays that every web process loads as it is.

The buffer is ``MAGIC``, the length of a JSON layout, the layout (each array's name → its
offset after the layout, size in bytes and array type code) and the arrays, each aligned
to 8 bytes.
"""

from __future__ import annotations

import json
import struct
from array import array
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from catalog.index import (
    COMING_SOON,
    MAGIC,
    PINNED,
    SHORT,
    SHORT_LIMIT,
    deletions,
    fold,
    key_hash,
)

WEIGHTS = {"name": 3, "other": 2, "category": 1}  # where a word was found


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
    arrays |= _short_prefixes(postings)
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
    """Each word → the systems it is found in → its best weight there."""
    postings: dict[str, dict[int, int]] = defaultdict(dict)
    for position, row in enumerate(systems):
        for word, kind in _words(row):
            weight = WEIGHTS[kind]
            if postings[word].get(position, 0) < weight:
                postings[word][position] = weight
    return postings


def _words(row: SystemRow) -> dict[tuple[str, str], None]:
    words = [(w, "name") for w in fold(row.name)]
    others = (row.vendor, row.slug.replace("-", " "), *row.aliases)
    words += [(w, "other") for text in others for w in fold(text)]
    words += [(w, "category") for category in row.categories for w in fold(category)]
    return dict.fromkeys(words)


def _short_prefixes(postings: dict[str, dict[int, int]]) -> dict[str, array | bytes]:
    """Prefixes of one or two letters → the most popular systems with a word starting so."""
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for word, hits in postings.items():
        for length in range(1, SHORT + 1):
            prefix = found[word[:length]]
            for position, weight in hits.items():
                prefix[position] = max(prefix.get(position, 0), weight)
    prefixes = sorted(found)
    cut = [dict(sorted(found[prefix].items())[:SHORT_LIMIT]) for prefix in prefixes]
    return _strings("short", prefixes) | _csr("short_", cut)


def _typo_keys(words: list[str]) -> dict[str, array]:
    """Each word under the hash of itself and, from four letters, of its deletions."""
    pairs = sorted(
        (key_hash(key), number)
        for number, word in enumerate(words)
        for key in ({word} | (deletions(word) if len(word) >= 4 else set()))
    )
    return {
        "typo_keys": array("I", [digest for digest, _ in pairs]),
        "typo_words": array("I", [number for _, number in pairs]),
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
        for position in sorted(row):
            hits[row[position]].append(position)
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
