"""Keyboard only: a user who cannot use a mouse completes the embedded flow."""

from __future__ import annotations

import pytest
from playwright.sync_api import Frame, Page

from tests.browser.test_embedded_flow import flow_frame, start_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIBE_FOCUS = """() => {
    const e = document.activeElement;
    if (!document.hasFocus() || e === document.body) return {text: "", outline: "none"};
    const label = e.labels && e.labels.length ? e.labels[0].textContent : "";
    return {text: (label || e.getAttribute("aria-label") || e.textContent || "").trim(),
            outline: getComputedStyle(e).outlineStyle};
}"""


def tab_to(page: Page, frame: Frame, wanted: str, limit: int = 40) -> dict:
    """Press Tab until the focused element's label or text contains ``wanted``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = frame.evaluate(DESCRIBE_FOCUS)
        if wanted in focused["text"]:
            return focused
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_the_flow_can_be_completed_with_the_keyboard_alone(browser, partner_site, onramp_server):
    _, session = start_session(partner_site.origin)
    page = browser.new_page()
    page.goto(f"{partner_site.origin}/?url={session['url']}")
    page.focus("#connect")
    page.keyboard.press("Enter")
    frame = flow_frame(page, onramp_server)
    frame.wait_for_selector("text=Which system do you use?")

    tab_to(page, frame, "Search systems")
    page.keyboard.type("sandbox")
    frame.wait_for_function("() => document.querySelectorAll('#results li').length === 1")
    focused = tab_to(page, frame, "Sandbox ERP")
    assert focused["outline"] != "none", "keyboard focus must be visible"
    page.keyboard.press("Enter")
    frame.wait_for_selector("text=How should we connect to Sandbox ERP?")
    frame.wait_for_function("() => document.activeElement.id === 'screen-title'")
    tab_to(page, frame, "Username and password")
    page.keyboard.press("Enter")
    frame.wait_for_selector("text=Before you connect Sandbox ERP")
    # Focus follows the user to the new screen's heading.
    frame.wait_for_function("() => document.activeElement.id === 'screen-title'")

    tab_to(page, frame, "enter details")
    page.keyboard.press("Enter")
    frame.wait_for_selector("text=Your Sandbox ERP details")
    frame.wait_for_function("() => document.activeElement.id === 'screen-title'")
    for label, value in [
        ("Company ID", "demo"),
        ("Username", "demo"),
        ("Password", "sandbox-demo"),
    ]:
        tab_to(page, frame, label)
        page.keyboard.type(value)
    tab_to(page, frame, "Connect")
    page.keyboard.press("Enter")
    page.wait_for_function("window.results.success !== null", timeout=30_000)
