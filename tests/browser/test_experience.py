"""Leaving and coming back, ways out, focus and forms, in Chromium at phone and desktop
widths: in the partner's cross-site iframe (third-party cookies blocked) and on the hosted
page."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from catalog.sync import catalog_sync
from connections.services.partners import partner_create
from tests.factories import practice_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [pytest.param(375, id="phone"), pytest.param(1280, id="desktop")]


def new_session(origin: str, **extra) -> dict:
    catalog_sync()
    partner, secret = partner_create(name="Partner", origins=[origin], actor="test")
    practice_sign_in(partner)  # as `make demo`: the Sandbox offers both of its methods
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    body = {"end_user": {"id": "cust-1"}, "allowed_origin": origin, **extra}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def sized_page(browser: BrowserContext, width: int) -> Page:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    return page


def embedded(browser: BrowserContext, partner_site, width: int) -> tuple[Page, FrameLocator]:
    session = new_session(partner_site.origin)
    page = sized_page(browser, width)
    page.goto(f"{partner_site.origin}/?url={quote(session['url'])}")
    page.click("#connect")
    return page, page.frame_locator("iframe")


def to_sandbox_details(frame: FrameLocator | Page) -> None:
    frame.get_by_role("link", name="Sandbox ERP").click()
    frame.get_by_role("link", name=re.compile("^Username and password")).click()
    frame.get_by_role("link", name=re.compile("enter details")).click()
    expect(frame.get_by_label("Company ID")).to_be_visible()


def heading_is_clear_of_the_header(frame: FrameLocator) -> bool:
    return frame.locator("body").evaluate(
        """() => {
            const header = document.querySelector('.flow-header').getBoundingClientRect();
            const title = document.querySelector('#flow h1').getBoundingClientRect();
            return title.top >= header.bottom - 1;
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_leaving_asks_first_and_the_same_link_resumes(browser, partner_site, onramp_server, width):
    page, frame = embedded(browser, partner_site, width)
    expect(page.locator("#connect")).to_have_js_property("inert", True)  # focus stays inside
    to_sandbox_details(frame)
    assert heading_is_clear_of_the_header(frame)
    frame.get_by_label("Company ID").fill("demo")
    frame.get_by_label("Company ID").press("Escape")  # in a field: Escape does not close
    expect(frame.get_by_label("Company ID")).to_be_visible()
    frame.get_by_label("Username").focus()  # leaving the field keeps what was typed
    frame.get_by_role("button", name="Close").click()
    dialog = frame.get_by_role("dialog", name="Leave without connecting?")
    expect(dialog).to_be_visible()
    frame.get_by_role("button", name="Keep going").click()
    expect(dialog).to_be_hidden()
    frame.get_by_role("button", name="Close").click()
    frame.get_by_role("button", name="Leave").click()
    page.wait_for_function("window.results.exit !== null")
    exit = page.evaluate("window.results.exit")
    assert exit["meta"]["screen"] == "details" and exit["meta"]["link_session_id"]
    assert "EXIT" in page.evaluate("window.results.events")
    expect(page.locator("#connect")).to_have_js_property("inert", False)
    assert page.evaluate("window.results.events.filter(e => e === 'READY')") == ["READY"]

    page.click("#connect")  # the same link again: back where the user left, with the value
    again = page.frame_locator("iframe")
    expect(again.get_by_label("Company ID")).to_have_value("demo")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_first_screen_closes_at_once(browser, partner_site, onramp_server, width):
    page, frame = embedded(browser, partner_site, width)
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_visible()
    heading = frame.get_by_role("heading", name="Which system do you use?")
    heading.focus()
    # The frame goes away at keydown, so a real key press would have no frame left for its
    # keyup (Playwright's press then waits forever): send the keydown alone, as an event
    # dispatched on the focused heading, which returns as soon as it is dispatched.
    heading.dispatch_event("keydown", {"key": "Escape", "bubbles": True})
    page.wait_for_function("window.results.exit !== null", timeout=30_000)
    assert page.evaluate("window.results.exit.meta.screen") == "choose"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_hosted_link_returns_to_the_partner_on_close(
    browser, partner_site, onramp_server, width
):
    back = f"{partner_site.origin}/connected"
    session = new_session(partner_site.origin, redirect_url=back)
    page = sized_page(browser, width)
    page.goto(session["url"])
    to_sandbox_details(page)  # a page answers the same questions as a frame
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Leave").click()
    page.wait_for_url(re.compile(r"/connected\?link_session_id=ls_[\w-]+&status=exit$"))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_failed_submit_takes_focus_to_what_to_fix(browser, partner_site, onramp_server, width):
    _, frame = embedded(browser, partner_site, width)
    to_sandbox_details(frame)
    frame.get_by_label("Password", exact=True).fill("typed")
    frame.get_by_role("button", name="Show").click()
    expect(frame.get_by_label("Password", exact=True)).to_have_attribute("type", "text")
    frame.get_by_role("button", name="Hide").click()
    expect(frame.get_by_label("Password", exact=True)).to_have_attribute("type", "password")
    frame.get_by_role("button", name="Connect").click()
    summary = frame.locator("#error-summary")
    expect(summary).to_be_focused()
    assert heading_is_clear_of_the_header(frame)
    summary.get_by_role("link", name=re.compile("^Company ID")).click()
    expect(frame.get_by_label("Company ID")).to_be_focused()
    expect(frame.get_by_text("we cleared this field")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_language_switcher_keeps_the_screen(browser, partner_site, onramp_server, width):
    _, frame = embedded(browser, partner_site, width)
    frame.get_by_role("link", name="Sandbox ERP").click()
    expect(frame.get_by_role("heading", name=re.compile("Sandbox ERP"))).to_be_visible()
    menu = frame.get_by_role("form", name="Language")
    expect(menu.get_by_role("button")).to_have_text(["Deutsch", "Français", "Español"])
    menu.get_by_role("button", name="Deutsch").click()  # the language itself: no "Change"
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    expect(frame.get_by_role("heading", name=re.compile("Sandbox ERP"))).to_be_visible()
    menu = frame.get_by_role("form", name="Sprache")
    expect(menu.get_by_role("button")).to_have_text(["English", "Français", "Español"])
    expect(menu.locator("[aria-current]")).to_have_text("Deutsch")
    expect(frame.get_by_role("link", name=re.compile("Zurück"))).to_be_visible()
