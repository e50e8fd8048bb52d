"""Load every definition in ``catalog/systems/`` once, validated against its schema.

``definitions()`` is cached for the life of the process; the files are part of the release.
The catalog is data: whether the auth schemes and failure codes a definition names exist is
checked by the code that provides them (``connections/checks.py``), not here.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from catalog.normalizers import NORMALIZERS
from catalog.schema import DefinitionError, SystemDefinition, parse_definition

SYSTEMS_DIR = Path(__file__).resolve().parent / "systems"


def load_file(path: Path) -> SystemDefinition:
    """Parse and validate one definition file; raise ``DefinitionError`` when it is wrong."""
    source = f"catalog/systems/{path.name}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{source}: {exc}") from None
    definition = parse_definition(data, source=source)
    if path.stem != definition.slug:
        raise DefinitionError(f"{source}: slug must match the file name")
    problems = definition_problems(definition)
    if problems:
        raise DefinitionError(f"{source}: {problems[0]}")
    return definition


def definition_problems(definition: SystemDefinition) -> list[str]:
    """What the catalog itself cannot support: normalisers. (Placeholders are checked with
    the schemes, which may provide values of their own.)"""
    problems: list[str] = []
    for method in definition.methods:
        problems += _field_problems(definition.fields + method.fields)
    return list(dict.fromkeys(problems))


def _field_problems(specs: tuple) -> list[str]:
    return [
        f"field {spec.name!r}: unknown normaliser {spec.normalize!r}"
        for spec in specs
        if spec.normalize not in NORMALIZERS
    ]


def load_directory(directory: Path) -> dict[str, SystemDefinition]:
    loaded = (load_file(path) for path in sorted(directory.glob("*.toml")))
    return {definition.slug: definition for definition in loaded}


@cache
def definitions() -> dict[str, SystemDefinition]:
    """Every system definition, by slug."""
    return load_directory(SYSTEMS_DIR)


def get_definition(slug: str) -> SystemDefinition | None:
    return definitions().get(slug)
