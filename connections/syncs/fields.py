"""The README's field tables, generated from the unified models and every system's mappings.

Per model: each field with its type, its description, and what each system that syncs the
model maps to it (``-`` where it maps nothing); then how each system lists its records. The
tables live in the README between ``MARKERS``; ``manage.py sync_field_tables`` rewrites
them, and a test fails when a mapping changed without regenerating.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from catalog.mappings import SyncSpec
from catalog.registry import definitions
from connections.syncs.schemas import LINES, SyncModel, Unified

MARKERS = ("<!-- sync-fields:start -->", "<!-- sync-fields:end -->")
FIRST = "sandbox-erp"  # the built-in demo system's column comes first
TYPES = {str: "text", int: "integer", Decimal: "decimal", date: "date", datetime: "time (UTC)"}


def field_tables() -> str:
    """The Markdown between the README's markers."""
    systems = _systems()
    parts = []
    for model in SyncModel:
        mapping = {name: specs[model.value] for name, specs in systems if model.value in specs}
        parts.append(_table(f"`{model.value}` field", model.schema, mapping, _top))
        if model.value in LINES:
            name, schema = LINES[model.value]
            lines = {system: spec.lines.fields for system, spec in mapping.items()}
            parts.append(_table(f"`{model.value}` {_line_word(name)} field", schema, lines, _flat))
    parts.append(_listing_table(systems))
    return "\n\n".join(parts) + "\n"


def readme_with_tables(readme: str) -> str:
    """The README with its tables replaced by the current ones."""
    start, end = MARKERS
    before, found, rest = readme.partition(start)
    if not found or end not in rest:
        raise ValueError(f"The README has no {start} … {end} section.")
    return f"{before}{start}\n{field_tables()}{end}{rest.split(end, 1)[1]}"


def readme_path() -> Path:
    return Path(__file__).resolve().parents[2] / "README.md"


def _systems() -> list[tuple[str, dict[str, SyncSpec]]]:
    found = [(d.slug, d.name, d.syncs) for d in definitions().values() if d.syncs]
    found.sort(key=lambda item: (item[0] != FIRST, item[1].lower()))
    return [(name, syncs) for _, name, syncs in found]


def _line_word(name: str) -> str:
    return "line" if name == "lines" else name


def _table(title: str, schema: type[Unified], mapping: dict[str, Any], cell: Any) -> str:
    header = [title, "Type", "Description", *mapping]
    rows = [_row(header), _row(["---"] * len(header))]
    for name, info in schema.model_fields.items():
        described = info.description or ""
        mapped = [cell(name, rules) for rules in mapping.values()]
        rows.append(_row([f"`{name}`", _type(info.annotation), described, *mapped]))
    return "\n".join(rows)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") or " " for c in cells) + " |"


def _type(annotation: Any) -> str:
    """A field's type in words: ``text``, ``decimal``, the values of an enum…"""
    inner = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) and len(inner) == 1:
        return _type(inner[0])
    origin = typing.get_origin(annotation)
    if origin is list:
        return "list, below"
    if origin is dict or annotation is dict:
        return "object"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, Unified):
        return "{" + ", ".join(annotation.model_fields) + "}"
    return TYPES.get(annotation, str(annotation))


def _top(name: str, spec: SyncSpec) -> str:
    """What a system maps to a top-level field: its rule, or its sub-fields' rules."""
    if name in spec.fields:
        return _rule(spec.fields[name])
    nested = {k.split(".", 1)[1]: v for k, v in spec.fields.items() if k.startswith(name + ".")}
    if nested:
        return ", ".join(f"{part}: {_rule(rule)}" for part, rule in nested.items())
    if name in ("lines", "inventory") and spec.lines.source:
        return f"`{spec.lines.source}`"
    return "-"


def _flat(name: str, fields: dict[str, Any]) -> str:
    return _rule(fields[name]) if name in fields else "-"


def _rule(rule: Any) -> str:
    """A field rule in words: ``qty`` (decimal); an enum with its values by target."""
    rule = {"source": rule} if isinstance(rule, str) else rule
    text = f"`{rule['source']}`"
    if rule.get("type") == "enum":
        targets: dict[str, list[str]] = {}
        for value, target in rule["values"].items():
            targets.setdefault(target, []).append(value)
        return text + ": " + "; ".join(f"{', '.join(v)} → {t}" for t, v in targets.items())
    kind = rule.get("type", "string")
    return text if kind == "string" else f"{text} ({kind})"


def _listing_table(systems: list[tuple[str, dict[str, SyncSpec]]]) -> str:
    header = ["System", "Model", "Request", "Pages", "Changed since", "Deletions"]
    rows = [_row(header), _row(["---"] * len(header))]
    for name, syncs in systems:
        for model, spec in syncs.items():
            rows.append(_row([name, f"`{model}`", *_listing(spec)]))
    return "\n".join(rows)


def _listing(spec: SyncSpec) -> list[str]:
    paging = spec.pagination
    pages = f"{paging.style}, {paging.size} a page"
    since = f"`{spec.modified_param}`" if spec.modified_param else "-"
    if spec.method == "POST" and "{since}" in str(spec.body):
        since = "in the body"
    deletions = spec.deletions.style
    if spec.deletions.field:
        deletions += f" (`{spec.deletions.field}`)"
    return [f"`{spec.method} {spec.path}`", pages, since, deletions]
