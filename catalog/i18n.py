"""The catalog's words in the end user's language.

Definitions are written in English; every string an end user reads (labels, help, guides,
messages) is extracted into ``catalog/messages.py`` by ``manage.py catalog_messages`` so that
``makemessages`` finds it, and is looked up here when shown. A string without a translation
shows in English. Menu paths (``where``) are translated too, but only in part: the menu
names stay as the vendor's English interface shows them, while a placeholder among them
("the role", "(the app)") and joining words are the translator's (German: Rolle, in single
angle quotation marks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from django.utils.translation import gettext

# Attributes of the definition dataclasses that an end user reads, translated when shown.
TRANSLATED = frozenset(
    {
        "summary",
        "label",
        "help",
        "pattern_message",
        "description",
        "notice",
        "title",
        "body",
        "why",
        "where",
        "permission",
    }
)


def translated(text: str) -> str:
    """``text`` in the active language (itself when there is no translation)."""
    return gettext(text) if text else text


def translatable_strings(node: Any) -> Iterator[str]:
    """Every string of a definition (or part of one) that ``translated`` will be asked for."""
    if is_dataclass(node):
        for spec in fields(node):
            value = getattr(node, spec.name)
            if spec.name in TRANSLATED and isinstance(value, str) and value:
                yield value
            elif spec.name == "messages" and isinstance(value, dict):
                yield from (text for text in value.values() if text)
            elif isinstance(value, tuple):
                for item in value:
                    yield from translatable_strings(item)
