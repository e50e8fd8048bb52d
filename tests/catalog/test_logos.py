"""Every system shows a tile: its vendor's mark where Simple Icons' licence allows (issue 21's
trust signals), its monogram otherwise; and each definition says how its facts were checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from catalog.brands import BRANDS_DIR, MARKS
from catalog.registry import definitions

STATIC = Path(settings.BASE_DIR) / "static"
SVG = "{http://www.w3.org/2000/svg}"
DEFINITIONS = sorted(definitions().values(), key=lambda d: d.slug)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.slug)
def test_every_system_has_a_tile_that_draws_something(definition):
    path = STATIC / definition.logo
    assert definition.logo.startswith("catalog/logos/") and path.is_file(), definition.logo
    root = ElementTree.fromstring(path.read_text())
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 48 48"
    drawn = [e for e in root.iter() if e.tag in (f"{SVG}path", f"{SVG}text")]
    assert drawn and all((e.get("d") or e.text or "").strip() for e in drawn)


def test_brand_tiles_are_drawn_from_the_vendored_marks():
    call_command("brand_tiles", check=True)  # fails when a tile no longer matches its mark


def test_only_marks_without_a_licence_of_their_own_are_used():
    icons = json.loads((BRANDS_DIR / "simple-icons.json").read_text())["icons"]
    assert (BRANDS_DIR / "LICENSE.md").read_text().startswith("# CC0 1.0 Universal")
    for slug, icon in MARKS.items():
        assert slug in definitions(), f"{slug} is not in the catalog"
        assert "license" not in icons[icon], f"{icon} has a licence of its own"


@pytest.mark.parametrize(
    "definition", [d for d in DEFINITIONS if d.slug != "sandbox-erp"], ids=lambda d: d.slug
)
def test_every_real_system_says_how_its_facts_were_checked(definition):
    assert definition.verified in {"docs", "account"}
    assert definition.verified_on <= "2026-12-31"
    assert definition.docs, "a checked definition cites the pages it was checked against"
