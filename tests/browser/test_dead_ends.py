"""Failure and lock screens lead somewhere (issue 18), in Chromium at phone and desktop widths
in the partner's cross-site iframe: the lock says so, tells the partner's page (``ERROR``
with ``error_code: locked``, then ``onExit`` with the same code) and has a button back."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client
from playwright.sync_api import expect

from catalog.sync import catalog_sync
from connections.models import LinkSession
from connections.services.partners import partner_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [pytest.param(375, id="phone"), pytest.param(1280, id="desktop")]


def open_embedded(browser, partner_site, width: int):
    catalog_sync()
    _, secret = partner_create(name="Partner", origins=[partner_site.origin], actor="test")
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    body = {"end_user": {"id": "cust-1"}, "allowed_origin": partner_site.origin}
    session = api.post("/api/v1/link-sessions", body, content_type="application/json").json()
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{partner_site.origin}/?url={quote(session['url'])}")
    page.click("#connect")
    return page, page.frame_locator("iframe")


def pick_sandbox(frame) -> None:
    """Without the partner's OAuth app the Sandbox offers one method: straight to its guide."""
    frame.get_by_role("link", name="Sandbox ERP").click()
    expect(frame.get_by_role("heading", name="Before you connect Sandbox ERP")).to_be_visible()


def submit_wrong_password(frame) -> None:
    frame.get_by_label("Company ID").fill("demo")
    frame.get_by_label("Username").fill("demo")
    frame.get_by_label("Password").fill("wrong")
    frame.get_by_role("button", name="Connect").click()
    expect(frame.get_by_role("alert")).to_contain_text("rejected these credentials")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_lock_tells_the_partner_and_leads_back(
    browser, partner_site, onramp_server, settings, width
):
    settings.ONRAMP_SESSION_MAX_FAILURES = 2
    page, frame = open_embedded(browser, partner_site, width)
    pick_sandbox(frame)
    frame.get_by_role("link", name=re.compile("enter details")).click()
    submit_wrong_password(frame)
    expect(frame.get_by_role("heading", name="Could not connect to Sandbox ERP")).to_be_visible()
    expect(frame.get_by_text("You can try once more")).to_be_visible()  # near the limit only
    expect(frame.get_by_role("button", name="Back to Partner")).to_be_visible()
    frame.get_by_role("link", name="Edit details and try again").click()
    submit_wrong_password(frame)

    expect(frame.get_by_role("heading", name="This link is locked")).to_be_visible()
    expect(frame.get_by_text("Connecting to Sandbox ERP")).to_have_count(0)
    page.wait_for_function("window.results.events.includes('ERROR')")
    metas = page.evaluate("window.results.metas")
    assert {"error_code": "locked"}.items() <= metas[-1].items()
    back = frame.get_by_role("button", name="Back to Partner")
    expect(back).to_be_in_viewport()  # on a phone too, without scrolling past the fold
    back.click()  # nothing left to lose: no "Leave without connecting?" question
    page.wait_for_function("window.results.exit !== null")
    exit = page.evaluate("window.results.exit")
    assert exit["error"] == {"code": "locked"}
    assert page.locator("iframe").count() == 0
    expect(page.locator("#connect")).to_have_js_property("inert", False)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_locked_link_opened_again_leads_back(browser, partner_site, onramp_server, width):
    page, frame = open_embedded(browser, partner_site, width)
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_visible()

    LinkSession.objects.update(locked_at=LinkSession.objects.get().created_at)
    page.evaluate("document.querySelector('iframe').src = document.querySelector('iframe').src")
    expect(frame.get_by_role("heading", name="This link is locked")).to_be_visible()
    page.wait_for_function("window.results.metas.some(m => m.error_code === 'locked')")
    frame.get_by_role("button", name="Back to Partner").click()
    page.wait_for_function("window.results.exit !== null")
    assert page.evaluate("window.results.exit.error") == {"code": "locked"}
