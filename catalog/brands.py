"""Brand marks on catalog tiles: which systems show their vendor's mark, and how its tile is drawn.

The marks come from Simple Icons (npm ``simple-icons``, CC0; its licence and disclaimer are
vendored beside them in ``static/catalog/brands/``, with each icon's colour and source in
``simple-icons.json``). Only marks whose entry carries no licence of its own are used; every
other system keeps its monogram tile. A tile is the mark on a rounded square in the brand's
colour, written to ``static/catalog/logos/<slug>.svg`` by ``manage.py brand_tiles`` and checked
to be current by the tests, so a change here cannot ship half-done.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from django.conf import settings

BRANDS_DIR = Path(settings.BASE_DIR) / "static" / "catalog" / "brands"
LOGOS_DIR = Path(settings.BASE_DIR) / "static" / "catalog" / "logos"

# system slug → Simple Icons slug (explicit: a vendor's mark is never guessed from a name)
MARKS: dict[str, str] = {
    "sap-business-one": "sap",
    "sap-s4hana-cloud": "sap",
    "odoo": "odoo",
    "erpnext": "erpnext",
    "sage-intacct": "sage",
    "sage-business-cloud-accounting": "sage",
    "xero": "xero",
    "quickbooks-online": "quickbooks",
    "zoho-books": "zoho",
    "zoho-inventory": "zoho",
    "myob-business": "myob",
    "shopify": "shopify",
    "bigcommerce": "bigcommerce",
    "woocommerce": "woocommerce",
}

PATH = re.compile(r'<path d="([^"]+)"\s*/>')
TILE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" role="img" aria-hidden="true">'
    '<rect width="48" height="48" rx="10" fill="#{hex}"/>'
    '<path transform="translate(11 11) scale(1.0833)" fill="{ink}" d="{path}"/></svg>'
)


@cache
def _icons() -> dict[str, dict[str, str]]:
    return json.loads((BRANDS_DIR / "simple-icons.json").read_text())["icons"]


def tile_svg(icon: str) -> str:
    """The tile for a Simple Icons mark: white on the brand's colour, dark on a light one."""
    entry = _icons()[icon]
    match = PATH.search((BRANDS_DIR / f"{icon}.svg").read_text())
    if match is None:
        raise ValueError(f"{icon}.svg has no single path")
    ink = "#111" if _luminance(entry["hex"]) > 0.4 else "#fff"
    return TILE.format(hex=entry["hex"], ink=ink, path=match.group(1))


def tiles() -> dict[Path, str]:
    """Every brand tile's file and the text it should hold."""
    return {LOGOS_DIR / f"{slug}.svg": tile_svg(icon) for slug, icon in MARKS.items()}


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``RRGGBB``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
