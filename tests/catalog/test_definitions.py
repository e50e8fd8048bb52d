"""Every definition in catalog/systems/ is valid; the schema refuses what it should."""

import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

from catalog.checks import check_definitions
from catalog.registry import SYSTEMS_DIR, definitions
from catalog.schema import DefinitionError
from connections.checks import check_definitions_against_code
from connections.checks import checked_definition as load_file
from connections.schemes import SCHEMES

FILES = sorted(SYSTEMS_DIR.glob("*.toml"))
STATIC = Path(settings.BASE_DIR) / "static"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_definition_is_valid_and_complete(path):
    definition = load_file(path)
    assert (STATIC / definition.logo).is_file(), "each system needs a logo"
    assert definition.summary and definition.categories
    for method in definition.methods:
        # A sign-in with nothing to prepare skips its guide: its notice says what to expect.
        signs_in_at_once = SCHEMES[method.scheme].step == "oauth_sign_in" and method.notice
        assert method.has_guide or signs_in_at_once, f"method {method.id} needs a setup guide"
        keeps_a_secret = any(field.secret for field in method.fields)
        assert keeps_a_secret or SCHEMES[method.scheme].step
    for spec in definition.fields:
        assert spec.help, f"instance field {spec.name} needs help text for non-technical users"


def test_the_catalog_has_the_systems_the_product_promises():
    assert {p.stem for p in FILES} >= {"sandbox-erp", "infoplus", "mintsoft", "netsuite"}


VALID = """
slug = "acme-erp"
name = "Acme ERP"
vendor = "Acme"
summary = "An ERP."
categories = ["erp"]
base_url = "https://{host}"
[[fields]]
name = "host"
label = "Host"
normalize = "hostname"
[[methods]]
id = "key"
scheme = "api_key"
label = "API key"
recommended = true
options = { header = "X-Key" }
[[methods.fields]]
name = "api_key"
label = "API key"
secret = true
[[verify]]
label = "Ping"
method = "GET"
path = "/ping"
"""


GUIDE = """[[methods.guide]]
title = "First"
body = "Do this (as in step 2, not step 3)."
[[methods.guide]]
title = "Then"
body = "And this."
"""
CHOICE = """[[methods.choices]]
title = "Use the demo"
body = "Use demo."
"""


def test_guide_steps_are_numbered_and_alternatives_are_choices(tmp_path):
    guide = GUIDE.replace("not step 3", "see steps 1 and 2")
    choices = CHOICE + CHOICE.replace("Use the demo", "Or try a failure")
    definition = load_file(
        write(tmp_path, VALID.replace("[[verify]]", guide + choices + "[[verify]]"))
    )
    method = definition.method("key")
    assert [step.title for step in method.guide] == ["First", "Then"]
    assert [choice.title for choice in method.choices] == ["Use the demo", "Or try a failure"]
    assert method.has_guide


def write(tmp_path, text, name="acme-erp"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_a_valid_definition_loads(tmp_path):
    definition = load_file(write(tmp_path, VALID))
    assert definition.recommended_method.id == "key"
    assert definition.method("key").options == {"header": "X-Key"}


VERIFIED = 'verified = "{how}"\nverified_on = "2026-12-07"\nslug = "acme-erp"'


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t + 'colour = "red"\n', "unknown key 'colour'"),
        (
            lambda t: t.replace('label = "Host"', 'label = "Host"\nsecrett = true'),
            "fields[0]: unknown key 'secrett'",
        ),
        (lambda t: t.replace('vendor = "Acme"\n', ""), "missing key 'vendor'"),
        (
            lambda t: t.replace('categories = ["erp"]', 'categories = "erp"'),
            "categories: expected a list",
        ),
        (
            lambda t: t.replace('scheme = "api_key"', 'scheme = "carrier_pigeon"'),
            "unknown scheme 'carrier_pigeon'",
        ),
        (
            lambda t: t.replace('normalize = "hostname"', 'normalize = "magic"'),
            "unknown normaliser 'magic'",
        ),
        (
            lambda t: t.replace('options = { header = "X-Key" }', 'options = { heder = "X" }'),
            "unknown option 'heder'",
        ),
        (
            lambda t: t.replace(
                'options = { header = "X-Key" }',
                'options = { header = "X-Key", extra_headers = "X-Site: acme" }',
            ),
            "option 'extra_headers' must be a dict",
        ),
        (
            lambda t: t.replace(
                'options = { header = "X-Key" }',
                'options = { header = "X-Key", extra_headers = { X-Echo = "{api_key}" } }',
            ),
            "headers use 'api_key', which is a secret",
        ),
        (
            lambda t: t.replace(
                'options = { header = "X-Key" }',
                'options = { header = "X-Key", extra_headers = { X-Site = "{site}" } }',
            ),
            "headers use 'site', which is unknown",
        ),
        (
            lambda t: t.replace(
                'path = "/ping"', 'path = "/ping"\nheaders = { X-A = "{api_key}" }'
            ),
            "headers use 'api_key', which is a secret",
        ),
        (
            lambda t: t.replace('name = "api_key"', 'name = "key_value"'),
            "field 'api_key' is required",
        ),
        (
            lambda t: t.replace("recommended = true", "recommended = false"),
            "exactly one method must be recommended",
        ),
        (
            lambda t: t.replace("https://{host}", "https://{tenant}"),
            "unknown placeholder 'tenant'",
        ),
        (lambda t: t.replace('method = "GET"', 'method = "DELETE"'), "verify method 'DELETE'"),
        (lambda t: t + '[messages]\nnot_a_code = "x"\n', "unknown failure code 'not_a_code'"),
        (lambda t: t.replace('slug = "acme-erp"', 'slug = "Acme ERP"'), "not a valid slug"),
        (lambda t: t.replace("[[verify]]", "[[verify_]]"), "unknown key 'verify_'"),
        (lambda t: t + "[[", "acme-erp.toml"),
        (lambda t: t.replace("[[verify]]", GUIDE + "[[verify]]"), "refers to step 3"),
        (
            lambda t: t.replace(
                "[[verify]]", GUIDE.replace("step 3", "steps 1 or 4") + "[[verify]]"
            ),
            "refers to step 4",
        ),
        (
            lambda t: t.replace(
                'label = "API key"\nsecret', 'label = "API key"\nhelp = "See step 2."\nsecret'
            ),
            "refers to step 2, but the guide has 0 steps",
        ),
        (
            lambda t: t.replace("[[verify]]", GUIDE.replace("Then", "Or instead") + "[[verify]]"),
            "'Or instead' is an alternative: make it a choice",
        ),
        (
            lambda t: t.replace("[[verify]]", CHOICE + "[[verify]]"),
            "choices are alternatives: give at least two",
        ),
        (
            lambda t: t.replace('slug = "acme-erp"', VERIFIED.format(how="hearsay")),
            "verified must",
        ),
        (
            lambda t: t.replace('slug = "acme-erp"', 'verified = "docs"\nslug = "acme-erp"'),
            "verified and verified_on go together",
        ),
        (
            lambda t: t.replace(
                'slug = "acme-erp"', VERIFIED.format(how="docs").replace("12-07", "13-07")
            ),
            "verified_on must be a date",
        ),
    ],
)
def test_mistakes_are_refused_with_a_precise_message(tmp_path, change, message):
    with pytest.raises(DefinitionError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_file(write(tmp_path, change(VALID)))


def test_the_file_name_must_match_the_slug(tmp_path):
    with pytest.raises(DefinitionError, match="slug must match the file name"):
        load_file(write(tmp_path, VALID, name="other"))


def test_the_system_check_reports_a_broken_definition(tmp_path, monkeypatch):
    write(tmp_path, VALID.replace('vendor = "Acme"\n', ""))
    monkeypatch.setattr("catalog.checks.SYSTEMS_DIR", tmp_path)
    errors = check_definitions()
    assert [e.id for e in errors] == ["catalog.E001"]
    assert "acme-erp.toml" in errors[0].msg


def test_the_shipped_catalog_passes_the_system_checks():
    assert check_definitions() == []
    assert check_definitions_against_code() == []


def test_the_catalog_imports_nothing_from_connections():
    catalog = Path(settings.BASE_DIR) / "catalog"
    sources = [p for p in catalog.rglob("*.py") if "migrations" not in p.parts]
    imports = re.compile(r"^\s*(from|import) connections\b", re.MULTILINE)
    assert not [p.name for p in sources if imports.search(p.read_text())]


def test_definitions_are_plain_toml():
    for path in FILES:
        tomllib.loads(path.read_text())


def test_the_readmes_catalog_count_is_current():
    from django.conf import settings

    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    real = [slug for slug in definitions() if slug != "sandbox-erp"]
    assert f"{len(real)} real systems and the Sandbox ERP" in readme
