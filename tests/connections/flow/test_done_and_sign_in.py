"""The last screen and the sign-in step say what really happens: the connected screen waits
for the user (a hosted page: a way back to the partner, no redirect by itself), and a sign-in
says "window" only where one opens (the page's words are in the HTML; a frame's are swapped in
by flow.js, which ``tests/browser/test_sign_in_and_done.py`` sees)."""

from __future__ import annotations

import re

import pytest

from catalog import sandbox_oauth
from connections.services.oauth import oauth_app_set

pytestmark = pytest.mark.django_db
BACK = "https://app.acme.test/connected"


def connect_infoplus(user, fake_systems) -> str:
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-1"})
    return user.get("done/").content.decode()


def shown(html: str, mode: str) -> str:
    """The words of the elements marked for ``mode`` ("page" or "framed")."""
    marked = re.findall(rf'<(\w+) [^>]*data-show-when="{mode}"[^>]*>(.*?)</\1>', html, re.S)
    return " ".join(words for _, words in marked)


def test_a_hosted_connected_screen_offers_the_way_back_and_does_not_leave_by_itself(
    end_user, fake_systems
):
    html = connect_infoplus(end_user(redirect_url=BACK), fake_systems)
    assert "Infoplus is connected" in html
    back = re.search(r'<a class="button" href="([^"]+)" data-show-when="page">([^<]+)</a>', html)
    assert back and back.group(1).startswith(BACK + "?link_session_id=ls_")
    assert back.group(1).endswith("&amp;status=success") and back.group(2) == "Return to Acme"
    assert "data-return-url" not in html and 'http-equiv="refresh"' not in html
    assert "Continue" in shown(html, "framed")  # for the partner's frame, hidden here


def test_a_connected_screen_without_a_return_address_says_it_can_be_closed(end_user, fake_systems):
    html = connect_infoplus(end_user(), fake_systems)
    assert "You can close this window." in shown(html, "page")
    assert "Return to" not in html


def test_the_sign_in_step_waits_for_a_click_and_names_the_redirect_on_a_page(acme, end_user):
    oauth_app_set(
        partner=acme.partner,
        system="sandbox-erp",
        client_id=sandbox_oauth.CLIENT_ID,
        client_secret=sandbox_oauth.CLIENT_SECRET,
        actor="test",
    )
    html = end_user().get("s/sandbox-erp/sign_in/details/").content.decode()
    waiting = re.search(r'<div id="sign-in-waiting"[^>]*>', html).group(0)
    assert " hidden" in waiting  # nothing to wait for before the click
    assert "come back here" in shown(html, "page") and "window" not in shown(html, "page")
    framed = re.search(r'<p data-show-when="framed" hidden>', html)
    assert framed and "in a new window" in shown(html, "framed")
