"""A system's record → a unified one, as the definition's ``[syncs.<model>]`` table says.

Each field is read from a dotted ``source`` path and converted by a small typed transform
(``TRANSFORMS``); the result is validated by the unified model's schema. What cannot be
mapped raises ``MappingError`` naming the field, so the run can report the record (its id and
the field) and go on with the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from catalog.mappings import SyncSpec
from connections.syncs.schemas import LINES, SyncModel


class MappingError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message[:200]


@dataclass(frozen=True)
class Mapped:
    remote_id: str
    data: dict[str, Any]  # the unified record, as JSON
    raw: dict[str, Any]  # the record as the system gave it
    deleted: bool
    modified_at: datetime | None
    content_hash: str


def dig(record: Any, path: str) -> Any:
    """The value at a dotted ``path`` ("" is the record itself; a number indexes a list,
    ``assignees.0.id``); None where it stops."""
    value = record
    for key in path.split(".") if path else ():
        if isinstance(value, list) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def record_map(*, spec: SyncSpec, model: SyncModel, raw: Any) -> Mapped:
    """Map one record of the system's answer; raise ``MappingError`` when it cannot be."""
    if not isinstance(raw, dict):
        raise MappingError("record", "not an object")
    remote_id = dig(raw, spec.id)
    if remote_id in (None, "") or isinstance(remote_id, (dict, list)):
        raise MappingError(spec.id, "the record has no id")
    fields = _fields(spec.fields, raw, "")
    if spec.lines.source and model.value in LINES:
        fields[LINES[model.value][0]] = _lines(spec, model, raw)
    try:
        unified = model.schema.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise MappingError(".".join(map(str, error["loc"])), error["msg"]) from None
    data = unified.model_dump(mode="json")
    stamp = dig(raw, spec.modified_field) if spec.modified_field else None
    modified = _transform("datetime", stamp, spec.modified_field, {})
    deleted = _deleted(spec, raw)
    digest = content_hash(data, raw, deleted)
    return Mapped(str(remote_id)[:255], data, raw, deleted, modified, digest)


def content_hash(data: dict[str, Any], raw: Any, deleted: bool) -> str:
    canonical = json.dumps([data, raw, deleted], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fields(rules: dict[str, Any], raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for target, rule in rules.items():
        rule = {"source": rule} if isinstance(rule, str) else rule
        value = dig(raw, rule["source"])
        if value is None:
            value = rule.get("default")
        kind = rule.get("type", "string")
        converted = _transform(kind, value, prefix + target, rule.get("values") or {})
        _place(nested, target, converted)
    return nested


def _lines(spec: SyncSpec, model: SyncModel, raw: dict[str, Any]) -> list[dict[str, Any]]:
    name = LINES[model.value][0]
    lines = dig(raw, spec.lines.source) or []
    if not isinstance(lines, list):
        raise MappingError(spec.lines.source, "expected a list of lines")
    return [
        _fields(spec.lines.fields, line if isinstance(line, dict) else {}, f"{name}[{n}].")
        for n, line in enumerate(lines)
    ]


def _place(nested: dict[str, Any], target: str, value: Any) -> None:
    *parents, leaf = target.split(".")
    for parent in parents:
        nested = nested.setdefault(parent, {})
    nested[leaf] = value


def _deleted(spec: SyncSpec, raw: dict[str, Any]) -> bool:
    rule = spec.deletions
    value = dig(raw, rule.field) if rule.field else None
    if rule.style == "tombstone":
        return value is True or str(value).lower() in ("true", "1", "yes")
    if rule.style == "status":
        return value is not None and str(value) in rule.values
    return False


def _transform(kind: str, value: Any, field: str, values: dict[str, str]) -> Any:
    if value is None:
        return None
    try:
        return TRANSFORMS[kind](value, values)
    except (ValueError, TypeError, InvalidOperation, KeyError) as exc:
        raise MappingError(field, f"cannot read {str(value)[:40]!r} as {kind}") from exc


def _string(value: Any, _: dict) -> str:
    if isinstance(value, (dict, list)):
        raise TypeError(value)
    return str(value)


def _integer(value: Any, _: dict) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError(value)
    return int(value)


def _decimal(value: Any, _: dict) -> str:
    if isinstance(value, bool):
        raise TypeError(value)
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError(value)
    return str(number)


def _date(value: Any, _: dict) -> str:
    text = _string(value, {})
    if "T" in text or " " in text.strip():
        return _datetime(text, {}).date().isoformat()
    return date.fromisoformat(text).isoformat()


def _datetime(value: Any, _: dict) -> datetime:
    moment = datetime.fromisoformat(_string(value, {}).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _object(value: Any, _: dict) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(value)
    return value


def _boolean(value: Any, _: dict) -> bool:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False, "1": True, "0": False}[str(value).lower()]


def _enum(value: Any, values: dict[str, str]) -> str:
    return values[_string(value, {})]


TRANSFORMS: dict[str, Callable[[Any, dict], Any]] = {
    "string": _string,
    "integer": _integer,
    "decimal": _decimal,
    "date": _date,
    "datetime": _datetime,
    "boolean": _boolean,
    "enum": _enum,
    "object": _object,
}


def target_problems(model: SyncModel, spec: SyncSpec) -> list[str]:
    """Targets of the mapping that the unified model does not have."""
    problems = [
        f"fields: {target!r} is not a field of {model.value}"
        for target in spec.fields
        if not _has(model.schema, target)
    ]
    _, lines = LINES.get(model.value, ("", None))
    for target in spec.lines.fields:
        if lines is None or not _has(lines, target):
            problems.append(f"lines.fields: {target!r} is not a field of {model.value} lines")
    return problems


def _has(schema: Any, target: str) -> bool:
    for part in target.split("."):
        info = getattr(schema, "model_fields", {}).get(part)
        if info is None:
            return False
        schema = _model_in(info.annotation)
    return True


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``X | None`` (or None)."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and hasattr(candidate, "model_fields"):
            return candidate
    return None
