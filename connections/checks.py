"""System checks of the code's side: every definition uses schemes, options and failure codes
that exist; every scheme's flow step exists and has its template; every key id in use is in
the key ring (``check --deploy --database default``); no development-only opening is left on
in a deployment (``check --deploy``)."""

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import connection
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from catalog.normalizers import derived_names
from catalog.registry import SYSTEMS_DIR, load_file
from catalog.schema import DefinitionError, MethodSpec, SystemDefinition, template_names
from connections.flow.steps import STEPS
from connections.schemes import SCHEMES
from connections.schemes.base import APP_VALUES
from connections.services.encryption import encrypted_models, keys_missing
from connections.syncs.mapping import target_problems
from connections.syncs.schemas import SyncModel
from connections.verification.failures import FAILURES


def definition_problems(definition: SystemDefinition) -> list[str]:
    """What the code cannot support in a definition: schemes, their options, failure codes."""
    messages = [*definition.messages, *(c for m in definition.methods for c in m.messages)]
    problems = [
        f"unknown failure code {code!r} in [messages]" for code in messages if code not in FAILURES
    ]
    for method in definition.methods:
        scheme = SCHEMES.get(method.scheme)
        if scheme is None:
            problems.append(f"method {method.id!r}: unknown scheme {method.scheme!r}")
            continue
        known = (
            {spec.name for spec in definition.fields + method.fields}
            | derived_names(definition.fields)
            | scheme.provided_names(method)
        )
        templates = [definition.base_url] + [spec.path for spec in definition.verify]
        templates += [value for spec in definition.verify for value in spec.headers.values()]
        problems += [
            f"base_url: unknown placeholder {name!r}"
            for name in sorted(set().union(*(template_names(t) for t in templates)) - known)
        ]
        if method_problems := scheme.check_method(method):  # the rest reads those options
            problems += [f"method {method.id!r}: {p}" for p in method_problems]
            continue
        names = {spec.name for spec in definition.fields + method.fields}
        names |= derived_names(definition.fields)
        problems += [
            f"method {method.id!r}: options use unknown field {name!r}"
            for name in sorted(scheme.templated_names(method) - names)
        ]
        problems += _extra_header_problems(definition, method, known)
        problems += [f"method {method.id!r}: {p}" for p in _app_header_problems(method)]
    return problems + _sync_problems(definition)


def _sync_problems(definition: SystemDefinition) -> list[str]:
    """Models the engine does not sync yet, and mapped fields their model does not have."""
    problems = []
    for model, spec in definition.syncs.items():
        if model not in {m.value for m in SyncModel}:
            problems.append(f"syncs.{model}: not synced yet (only {', '.join(SyncModel)})")
            continue
        problems += [f"syncs.{model}.{p}" for p in target_problems(SyncModel(model), spec)]
    return problems


def _extra_header_problems(
    definition: SystemDefinition, method: MethodSpec, known: set[str]
) -> list[str]:
    """``extra_headers`` and live checks' headers may use the instance's values, never a secret
    (they are not auth, and only the instance's values fill them in)."""
    headers = list(method.options.get("extra_headers", {}).values())
    headers += [value for spec in definition.verify for value in spec.headers.values()]
    secrets = {spec.name for spec in definition.fields + method.fields if spec.secret}
    used = set().union(*(template_names(str(value)) for value in headers))
    return [
        f"method {method.id!r}: headers use {name!r}, which is "
        + ("a secret" if name in secrets else "unknown")
        for name in sorted(used - (known - secrets))
    ]


def _app_header_problems(method: MethodSpec) -> list[str]:
    """``app_headers`` are filled from the partner's app only (``{app_id}``, ``{app_secret}``),
    each using at least one of them (a fixed header belongs in ``extra_headers``)."""
    problems = []  # the option is a table: check_method said so first
    for name, value in method.options.get("app_headers", {}).items():
        try:
            used = template_names(value) if isinstance(value, str) else set()
        except ValueError:
            used = {"{"}
        if not used or used - APP_VALUES:
            problems.append(
                f"app_headers {name!r} must use only {{app_id}} and {{app_secret}} (at least one)"
            )
    return problems


def checked_definition(path: Any) -> SystemDefinition:
    """Load a definition file and check it against the code; raise ``DefinitionError``."""
    definition = load_file(path)
    if problems := definition_problems(definition):
        raise DefinitionError(f"catalog/systems/{path.name}: {problems[0]}")
    return definition


@checks.register()
def check_definitions_against_code(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    errors = []
    for path in sorted(SYSTEMS_DIR.glob("*.toml")):
        try:
            checked_definition(path)
        except DefinitionError as exc:
            errors.append(checks.Error(str(exc), id="connections.E002"))
    return errors


@checks.register(checks.Tags.database)
def check_encryption_keys(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every key id that encrypts a stored secret must still be in the key ring: a key
    removed too early makes those secrets unreadable (connections can no longer be used)."""
    if not databases or not _migrated():
        return []  # `migrate` runs database checks too, before the tables exist
    return [
        checks.Error(
            f"Encryption key {key_id!r} still encrypts {count} stored secret(s) but is missing "
            "from ONRAMP_ENCRYPTION_KEYS.",
            hint="Put the key back (after the newest), run `manage.py reencrypt`, then remove it.",
            id="connections.E001",
        )
        for key_id, count in sorted(keys_missing().items())
    ]


def _migrated() -> bool:
    tables = set(connection.introspection.table_names())
    return all(model._meta.db_table in tables for model in encrypted_models())


@checks.register()
def check_flow_steps(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every step a scheme names is registered, and every registered step has its template."""
    errors = [
        checks.Error(
            f"Scheme {name!r} names an unknown flow step {scheme.step!r}.", id="connections.E003"
        )
        for name, scheme in SCHEMES.items()
        if scheme.step and scheme.step not in STEPS
    ]
    for name, step in STEPS.items():
        try:
            get_template(step.template)
        except TemplateDoesNotExist:
            errors.append(
                checks.Error(
                    f"Flow step {name!r} has no template {step.template!r}.", id="connections.E004"
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_development_openings(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Local webhook endpoints let a test key make Onramp call this machine's own ports."""
    if not settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS:
        return []
    return [
        checks.Error(
            "ONRAMP_ALLOW_LOCAL_WEBHOOKS is on: test keys' webhooks may call this machine "
            "(http://localhost).",
            hint="It is for development only: unset it (it follows DEBUG) in a deployment.",
            id="connections.E005",
        )
    ]
