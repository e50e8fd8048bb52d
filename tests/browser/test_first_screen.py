"""The first screen on a phone and by keyboard, in Chromium at 375 and 1280 px: the first
result above the fold, the categories a menu, the search a combobox (type, ArrowDown, Enter),
and how many systems are listed spoken from a live region."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.test_axe import violations
from tests.browser.test_experience import WIDTHS, new_session, sized_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 667}


def embedded(browser, partner_site, viewport: dict) -> tuple[Page, FrameLocator]:
    session = new_session(partner_site.origin)
    page = browser.new_page()
    page.set_viewport_size(viewport)
    page.goto(f"{partner_site.origin}/?url={quote(session['url'])}")
    page.click("#connect")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_focused()
    return page, frame


def search_box(frame: FrameLocator | Page):
    return frame.get_by_role("combobox", name="Search systems")


def results(frame: FrameLocator | Page):
    return frame.get_by_role("listbox", name="Systems").get_by_role("option")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_system_is_picked_with_the_keyboard_alone(browser, partner_site, onramp_server, width):
    page, frame = embedded(browser, partner_site, {"width": width, "height": 800})
    page.keyboard.press("Tab")  # from the screen's title: the search box is next
    box = search_box(frame)
    expect(box).to_be_focused()
    page.keyboard.press("Tab")  # the kind menu, then the first result: not 11 Tabs away
    page.keyboard.press("Tab")
    expect(results(frame).first).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("sandbox")
    expect(results(frame)).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    option = results(frame).filter(has_text="Sandbox ERP")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "system-option-sandbox-erp")
    expect(box).to_be_focused()  # focus stays in the box: typing goes on working
    page.keyboard.press("Enter")
    expect(
        frame.get_by_role("heading", name="How should we connect to Sandbox ERP?")
    ).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_enter_opens_the_first_result_of_what_was_typed(
    browser, partner_site, onramp_server, width
):
    page, frame = embedded(browser, partner_site, {"width": width, "height": 800})
    box = search_box(frame)
    box.focus()
    page.keyboard.type("netsuite")
    page.keyboard.press("Enter")  # at once: before the answer to the last key has come
    expect(frame.get_by_role("heading", name="How should we connect to NetSuite?")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_arrows_move_through_the_results_and_escape_clears(
    browser, partner_site, onramp_server, width
):
    page, frame = embedded(browser, partner_site, {"width": width, "height": 800})
    box = search_box(frame)
    box.focus()
    options = results(frame)
    expect(options).to_have_count(8)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")  # above the first: back to typing
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile("."))
    page.keyboard.type("zzzz")
    expect(frame.get_by_text("No system matches")).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")  # nothing to open: the screen stays, nothing reloads
    expect(box).to_have_value("zzzz")
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    expect(frame.get_by_role("heading", name="Popular")).to_be_visible()
    assert page.evaluate("window.results.exit") is None  # Escape cleared the box, no more


def test_how_many_systems_are_listed_is_spoken(browser, partner_site, onramp_server):
    _, frame = embedded(browser, partner_site, {"width": 1280, "height": 800})
    status = frame.locator("#results-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("8 systems found")  # the popular list too
    search_box(frame).fill("sandbox")
    expect(status).to_have_text("1 system found")
    search_box(frame).press("Escape")
    expect(status).to_have_text("8 systems found")
    frame.get_by_label("Kind of system").select_option(label="Maintenance (CMMS)")
    expect(status).to_contain_text("systems found")
    expect(status).not_to_have_text("8 systems found")


@pytest.mark.parametrize("where", ["hosted", "embedded"])
def test_on_a_phone_the_first_result_is_above_the_fold_and_categories_are_a_menu(
    browser, partner_site, onramp_server, where
):
    if where == "hosted":
        session = new_session(partner_site.origin)
        page = sized_page(browser, 375)
        page.set_viewport_size(PHONE)
        page.goto(session["url"])
        screen: Page | FrameLocator = page
    else:
        page, screen = embedded(browser, partner_site, PHONE)
    first = results(screen).first
    expect(first).to_be_visible()
    bottom = first.evaluate("e => e.getBoundingClientRect().bottom")
    assert bottom <= PHONE["height"], f"the first result ends at {bottom}px, below the fold"
    kinds = screen.get_by_label("Kind of system")
    expect(kinds).to_be_visible()
    row = screen.locator(".search-row").evaluate("e => e.getBoundingClientRect().height")
    assert row < 100, f"the search and the category menu take {row}px, more than one row"
    assert screen.locator("a.chip, .categories").count() == 0


@pytest.mark.parametrize("width", WIDTHS)
def test_the_combobox_has_no_axe_violations(browser, onramp_server, partner_site, width):
    session = new_session(partner_site.origin)
    page = sized_page(browser, width)
    page.goto(session["url"])
    page.get_by_role("combobox", name="Search systems").press("ArrowDown")
    expect(results(page).first).to_have_attribute("aria-selected", "true")
    assert violations(page) == []
