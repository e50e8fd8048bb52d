"""The shape of a system definition (``catalog/systems/<slug>.toml``).

Definitions are data: parsed strictly (unknown keys, missing keys and wrong types are
errors that name the file and the key) into frozen dataclasses the flow reads. Checks that
need code — which auth schemes, normalisers and failure codes exist — live in
``registry.validate_definition``.
"""

from __future__ import annotations

import re
import string
import types
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Union, get_args, get_origin, get_type_hints

from catalog.mappings import SyncSpec, sync_problems


class DefinitionError(ValueError):
    """A system definition that does not match the schema."""


@dataclass(frozen=True)
class FieldSpec:
    """One input the user fills in: instance config (non-secret) or a credential."""

    name: str
    label: str
    help: str = ""
    placeholder: str = ""
    secret: bool = False  # stored encrypted, never shown again
    masked: bool = True  # a secret typed as dots; false for identifiers (a key's id)
    multiline: bool = False
    normalize: str = "text"
    domain: str = ""  # for the "subdomain" normaliser: the system's own domain
    # For the "url" normaliser: path segments where an instance's own path ends. A pasted
    # deep link keeps the path before the first of them (Acumatica's "/AcumaticaERP" before
    # "/Main"); without markers only the origin is kept.
    path_markers: tuple[str, ...] = ()
    pattern: str = ""
    pattern_message: str = ""
    max_length: int = 200
    optional: bool = False


@dataclass(frozen=True)
class GuideStep:
    """One step of a method's setup guide, shown as a checklist item."""

    title: str
    body: str
    where: str = ""  # menu path, e.g. "Setup > Integration > Manage Integrations"
    why: str = ""
    link: str = ""


@dataclass(frozen=True)
class GuideChoice:
    """One of a method's alternatives ("use the demo company" / "or try a failure"): the
    user picks one, so it is shown as an option, never as a step to tick."""

    title: str
    body: str
    why: str = ""


@dataclass(frozen=True)
class RequestSpec:
    """A live check: one request after authenticating. ``path`` is relative to base_url.

    ``path``, ``headers`` and the strings of ``json`` may use ``{field}``; a JSON value that is
    exactly ``"{field:int}"`` becomes that field's value as a number."""

    label: str
    method: str
    path: str
    permission: str = ""  # what a 403 here means the user lacks
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    expect: tuple[int, ...] = (200,)
    # What a good answer looks like, beyond its status: its content type ("" for any), and
    # a key its JSON object must have ("[]": the answer is a JSON list).
    expect_type: str = "application/json"
    expect_key: str = ""
    # A dotted path to a message the system fills in when it refuses inside a 200 answer
    # (SX.e's "response.cErrorMessage").
    error_key: str = ""


@dataclass(frozen=True)
class MethodSpec:
    """One way to authenticate to a system, driven by an auth scheme."""

    id: str
    scheme: str
    label: str
    description: str = ""
    recommended: bool = False
    notice: str = ""
    # The scheme's options, documented in its module (``connections/schemes/<scheme>.py``) and
    # checked by it; every scheme also takes ``extra_headers``: headers on each call to the
    # system, templated from the instance's non-secret values.
    options: dict[str, Any] = field(default_factory=dict)
    fields: tuple[FieldSpec, ...] = ()
    guide: tuple[GuideStep, ...] = ()  # numbered steps, in order: "step 3" means the third
    choices: tuple[GuideChoice, ...] = ()  # alternatives, after the steps
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def has_guide(self) -> bool:
        """Something to prepare or choose before the details: else its guide is skipped."""
        return bool(self.guide or self.choices)


@dataclass(frozen=True)
class SystemDefinition:
    slug: str
    name: str
    vendor: str
    summary: str
    categories: tuple[str, ...]
    base_url: str
    logo: str = ""
    aliases: tuple[str, ...] = ()
    popularity: int = 0
    docs_url: str = ""
    # Where each fact in the definition comes from: the vendor's auth page, the reference
    # page of the endpoint the live check calls.
    docs: tuple[str, ...] = ()
    # How the facts were checked: "docs" (against the cited pages) or "account" (run against a
    # real tenant), and on which day (YYYY-MM-DD). Facts still unchecked stay listed in the
    # file's header comment after "unverified:".
    verified: str = ""
    verified_on: str = ""
    coming_soon: bool = False
    # Installed on the customer's own network: an instance address that is private (or not
    # known publicly) is reached through the Onramp agent (README "On-premises systems").
    on_premises: bool = False
    fields: tuple[FieldSpec, ...] = ()
    methods: tuple[MethodSpec, ...] = ()
    verify: tuple[RequestSpec, ...] = ()
    messages: dict[str, str] = field(default_factory=dict)
    # What Onramp reads from the system for partners, per unified model (``mappings.py``).
    syncs: dict[str, SyncSpec] = field(default_factory=dict)

    def method(self, method_id: str) -> MethodSpec | None:
        return next((m for m in self.methods if m.id == method_id), None)

    @property
    def recommended_method(self) -> MethodSpec | None:
        return next((m for m in self.methods if m.recommended), None)


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
HTTP_METHODS = frozenset({"GET", "POST", "HEAD"})
# "step 3", "steps 5 and 6", "(steps 1, 2 or 4)": a reference to the guide's numbered steps.
STEP_REFERENCE = re.compile(r"\bsteps? (\d+(?:(?:, | and | or | to )\d+)*)", re.IGNORECASE)


def parse_definition(data: dict[str, Any], *, source: str) -> SystemDefinition:
    """Build a definition from parsed TOML; raise ``DefinitionError`` naming what is wrong."""
    definition = _build(SystemDefinition, data, source)
    _check_shape(definition, source)
    return definition


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise DefinitionError(f"{where}: expected a table")
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise DefinitionError(f"{where}: unknown key {unknown[0]!r}")
    values = {}
    for name, spec in known.items():
        if name in data:
            values[name] = _coerce(hints[name], data[name], f"{where}.{name}")
        elif spec.default is MISSING and spec.default_factory is MISSING:
            raise DefinitionError(f"{where}: missing key {name!r}")
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is tuple:
        item_type = get_args(hint)[0]
        if not isinstance(value, list):
            raise DefinitionError(f"{where}: expected a list")
        return tuple(_coerce(item_type, item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise DefinitionError(f"{where}: expected a table")
        value_type = get_args(hint)[1]
        return {key: _coerce(value_type, item, f"{where}.{key}") for key, item in value.items()}
    if origin in (Union, types.UnionType) or hint is Any:
        return value
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, value, where)
    if (hint is int and isinstance(value, bool)) or not isinstance(value, hint):
        raise DefinitionError(f"{where}: expected {hint.__name__}")
    return value


def _check_shape(definition: SystemDefinition, source: str) -> None:
    if not SLUG.match(definition.slug):
        raise DefinitionError(f"{source}: slug {definition.slug!r} is not a valid slug")
    if not definition.methods and not definition.coming_soon:
        raise DefinitionError(f"{source}: at least one method is required")
    if definition.methods and not definition.verify:
        raise DefinitionError(f"{source}: at least one [[verify]] request is required")
    if definition.methods and sum(m.recommended for m in definition.methods) != 1:
        raise DefinitionError(f"{source}: exactly one method must be recommended")
    ids = [m.id for m in definition.methods]
    if len(ids) != len(set(ids)):
        raise DefinitionError(f"{source}: method ids must be unique")
    for method in definition.methods:
        _check_fields(definition.fields + method.fields, f"{source}: method {method.id!r}")
        _check_guide(method, f"{source}: method {method.id!r}")
    for spec in definition.verify:
        if spec.method not in HTTP_METHODS:
            raise DefinitionError(f"{source}: verify method {spec.method!r} is not allowed")
    if problems := sync_problems(definition.syncs):
        raise DefinitionError(f"{source}: {problems[0]}")
    _check_verified(definition, source)


VERIFIED_HOW = frozenset({"docs", "account"})
ISO_DATE = re.compile(r"^20\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def _check_verified(definition: SystemDefinition, source: str) -> None:
    if definition.verified and definition.verified not in VERIFIED_HOW:
        raise DefinitionError(f"{source}: verified must be one of {sorted(VERIFIED_HOW)}")
    if bool(definition.verified) != bool(definition.verified_on):
        raise DefinitionError(f"{source}: verified and verified_on go together")
    if definition.verified_on and not ISO_DATE.match(definition.verified_on):
        raise DefinitionError(f"{source}: verified_on must be a date like 2026-12-07")


def _check_fields(specs: tuple[FieldSpec, ...], where: str) -> None:
    names = [spec.name for spec in specs]
    if len(names) != len(set(names)):
        raise DefinitionError(f"{where}: field names must be unique")
    for spec in specs:
        if not NAME.match(spec.name):
            raise DefinitionError(f"{where}: field name {spec.name!r} is not valid")
        if spec.pattern:
            _check_pattern(spec.pattern, where)
        if spec.secret and spec.normalize != "text":
            raise DefinitionError(f"{where}: secret field {spec.name!r} cannot be normalised")


def _check_guide(method: MethodSpec, where: str) -> None:
    """Steps are numbered on screen: every "step N" must name one; alternatives are choices."""
    if len(method.choices) == 1:
        raise DefinitionError(f"{where}: choices are alternatives: give at least two")
    for step in method.guide:
        if step.title.lower().startswith(("or ", "alternatively")):
            raise DefinitionError(
                f"{where}: guide step {step.title!r} is an alternative: make it a choice"
            )
    texts = [text for step in method.guide for text in (step.title, step.body, step.why)]
    texts += [text for choice in method.choices for text in (choice.body, choice.why)]
    texts += [spec.help for spec in method.fields]
    for text in texts:
        for numbers in STEP_REFERENCE.findall(text):
            for number in re.findall(r"\d+", numbers):
                if not 1 <= int(number) <= len(method.guide):
                    raise DefinitionError(
                        f"{where}: {text[:60]!r} refers to step {number}, but the guide has "
                        f"{len(method.guide)} steps"
                    )


def _check_pattern(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise DefinitionError(f"{where}: bad pattern {pattern!r}: {exc}") from None


def template_names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
