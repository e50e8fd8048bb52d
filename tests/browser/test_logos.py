"""Every catalog tile renders in Chromium as served: a logo that fails to load or draw would
leave an empty square on the first screen (issue 21's trust signals)."""

from __future__ import annotations

import pytest
from django.templatetags.static import static

from catalog.registry import definitions

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_every_systems_tile_renders_in_chromium(browser, live_server):
    logos = sorted({definition.logo for definition in definitions().values()})
    page = browser.new_page()
    page.goto(f"{live_server.url}/favicon.ico")  # same origin as the tiles
    rendered = page.evaluate(
        """async (urls) => Promise.all(urls.map((url) => new Promise((done) => {
            const img = new Image(48, 48);
            img.onload = () => done([url, img.naturalWidth > 0 && img.naturalHeight > 0]);
            img.onerror = () => done([url, false]);
            img.src = url;
        })))""",
        [static(logo) for logo in logos],
    )
    broken = [url for url, drawn in rendered if not drawn]
    assert len(rendered) == len(logos) and not broken, broken
