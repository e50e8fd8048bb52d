"""HTML is served compressed where BREACH cannot reach a secret (http/compression.py), and
the first screen weighs at most 30 KB as served, its CSS and JavaScript included (issue 17:
33.9 KB with the HTML uncompressed)."""

from __future__ import annotations

import gzip
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import link_session

pytestmark = pytest.mark.django_db
GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
MAX_FIRST_SCREEN_BYTES = 30_000
FORM = {"site": "acme", "api_key": "key-1"}
ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="/static/([^"]+\.(?:js|css))"')


def as_served(asset: str) -> int:
    """An asset's size as WhiteNoise serves it after ``collectstatic`` (which stores a gzip
    copy of each file at level 9, as here; Brotli copies only with the brotli package, which
    is not installed)."""
    return len(gzip.compress(open(finders.find(asset), "rb").read(), compresslevel=9))


def test_the_first_screen_is_compressed_and_weighs_at_most_30_kb(acme):
    _, token = link_session(acme.partner)
    response = Client().get(f"/connect/{token}/", **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert "Which system do you use?" in html
    assets = ASSET.findall(html)
    assert {"css/onramp.css", "connect/flow.js"} <= set(assets)
    weight = len(response.content) + sum(as_served(asset) for asset in assets)
    assert weight <= MAX_FIRST_SCREEN_BYTES, (len(response.content), assets, weight)


def test_without_accept_encoding_the_html_is_plain(acme):
    _, token = link_session(acme.partner)
    response = Client().get(f"/connect/{token}/")
    assert "Content-Encoding" not in response
    assert "Which system do you use?" in response.content.decode()


def test_the_done_screen_holding_the_public_token_is_never_compressed(
    acme, fake_systems, django_capture_on_commit_callbacks
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    _, token = link_session(acme.partner)
    with django_capture_on_commit_callbacks(execute=True):  # the check runs inline
        Client().post(f"/connect/{token}/s/infoplus/api_key/details/", FORM)
    response = Client().get(f"/connect/{token}/done/", **GZIP)
    assert response.status_code == 200 and "data-public-token" in response.content.decode()
    assert "Content-Encoding" not in response


def test_answers_to_posts_are_never_compressed(acme):
    _, token = link_session(acme.partner)
    response = Client().post(
        f"/connect/{token}/s/infoplus/api_key/details/", {"site": "", "api_key": ""}, **GZIP
    )
    assert response.status_code == 422  # the form again, with what was typed in it
    assert "Content-Encoding" not in response
