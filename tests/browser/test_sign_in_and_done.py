"""The sign-in step and the last screen tell the truth, in Chromium at 375 and 1280 px: no
"waiting … in the other window" before a click nor on a hosted page (which opens no window);
the connected screen stays until the user continues; step states carry a mark, not only a
colour; the browser finds an icon."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from catalog import sandbox_oauth
from connections.models import LinkSession, Partner, ValidationAttempt
from connections.services.oauth import oauth_app_set
from tests.browser.conftest import connect_sandbox
from tests.browser.test_axe import violations
from tests.browser.test_embedded_flow import flow_frame
from tests.browser.test_experience import WIDTHS, new_session, sized_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAITING = "Waiting for you to sign in"


def sign_in_session(origin: str, **extra) -> dict:
    session = new_session(origin, systems=["sandbox-erp"], **extra)
    oauth_app_set(
        partner=Partner.objects.get(),
        system="sandbox-erp",
        client_id=sandbox_oauth.CLIENT_ID,
        client_secret=sandbox_oauth.CLIENT_SECRET,
        actor="test",
    )
    return session


def to_sign_in(screen) -> None:
    screen.get_by_role("link", name=re.compile("^Sign in with Sandbox ERP")).click()
    screen.get_by_label("Company ID").fill("demo")  # nothing to prepare: straight to signing in


@pytest.mark.parametrize("width", WIDTHS)
def test_a_hosted_sign_in_goes_to_the_sign_in_page_and_back_without_waiting_words(
    browser, partner_site, onramp_server, celery_worker, width
):
    back = f"{partner_site.origin}/connected"
    session = sign_in_session(partner_site.origin, redirect_url=back)
    page = sized_page(browser, width)
    page.goto(session["url"])
    to_sign_in(page)
    expect(page.get_by_text(re.compile("come back here"))).to_be_visible()
    expect(page.get_by_text("in a new window")).to_be_hidden()
    expect(page.get_by_text(WAITING)).to_be_hidden()
    page.get_by_role("button", name="Sign in with Sandbox ERP").click()
    expect(page.get_by_role("heading", name="Allow access to Sandbox ERP?")).to_be_visible()
    expect(page.get_by_text("Partner asks to:")).to_be_visible()  # the partner's app, by name
    expect(page.get_by_text("Read your orders")).to_be_visible()
    page.get_by_role("link", name="Allow").click()

    expect(page.get_by_role("heading", name="Sandbox ERP is connected")).to_be_visible()
    done_at = page.url
    page.wait_for_timeout(3500)  # it used to leave for the partner by itself after 2.5 s
    assert page.url == done_at
    expect(page.get_by_role("button", name="Continue")).to_be_hidden()
    page.get_by_role("link", name="Return to Partner").click()
    page.wait_for_url(re.compile(r"/connected\?link_session_id=ls_[\w-]+&status=success$"))


@pytest.mark.parametrize("width", WIDTHS)
def test_in_a_frame_the_waiting_words_come_only_after_the_click(
    browser, partner_site, onramp_server, celery_worker, width
):
    session = sign_in_session(partner_site.origin)
    page = sized_page(browser, width)
    page.goto(f"{partner_site.origin}/?url={quote(session['url'])}")
    page.click("#connect")
    frame = page.frame_locator("iframe")
    to_sign_in(frame)
    expect(frame.get_by_text(re.compile("in a new window"))).to_be_visible()
    expect(frame.get_by_text("come back here")).to_be_hidden()
    expect(frame.get_by_text(WAITING)).to_be_hidden()
    with page.context.expect_page() as opened:
        frame.get_by_role("button", name="Sign in with Sandbox ERP").click()
    expect(frame.get_by_text(WAITING)).to_be_visible()
    expect(opened.value.get_by_text("Partner asks to:")).to_be_visible()
    opened.value.get_by_role("link", name="Allow").click()
    page.wait_for_function("window.results.success !== null", timeout=30_000)


def stay_open(browser, partner_site, width: int) -> tuple[Page, object]:
    session = new_session(partner_site.origin)
    page = sized_page(browser, width)
    page.goto(f"{partner_site.origin}/?stay=1&url={quote(session['url'])}")  # no closeDelay
    page.click("#connect")
    return page, page.frame_locator("iframe")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_connected_screen_stays_until_the_user_continues(
    browser, partner_site, onramp_server, celery_worker, width
):
    page, frame = stay_open(browser, partner_site, width)
    connect_sandbox(frame)
    heading = frame.get_by_role("heading", name="Sandbox ERP is connected")
    expect(heading).to_be_visible(timeout=30_000)
    page.wait_for_function("window.results.success !== null")  # the partner has the token
    page.wait_for_timeout(2500)  # it used to close after 1.2 s
    expect(heading).to_be_visible()
    assert violations(flow_frame(page, onramp_server)) == []
    continue_ = frame.get_by_role("button", name="Continue")
    expect(continue_).to_be_visible()
    if width == 375:
        continue_.click()
    else:
        frame.get_by_role("button", name="Close").click()  # the same: no "leave?" question
    expect(page.locator("iframe")).to_have_count(0)
    assert page.evaluate("window.results.exit") is None
    assert "EXIT" not in page.evaluate("window.results.events")
    expect(page.locator("#connect")).to_have_js_property("inert", False)


@pytest.mark.parametrize("width", WIDTHS)
def test_check_steps_are_told_by_a_mark_not_by_colour_alone(browser, onramp_server, width):
    session = new_session("https://app.partner.test")
    failed = ValidationAttempt.objects.create(
        link_session=LinkSession.objects.get(pk=session["id"]),
        system_slug="sandbox-erp",
        method="password",
        status="failed",
        error_code="invalid_credentials",
        error_message="The system rejected these credentials.",
        error_advice="Check them and try again.",
        steps={"reach": "done", "authenticate": "failed"},
        finished_at=timezone.now(),
    )
    page = sized_page(browser, width)
    page.goto(f"{session['url']}attempts/{failed.id}/")
    mark = "(selector) => getComputedStyle(document.querySelector(selector), '::after').content"
    assert page.evaluate(mark, ".step-done .step-icon") == '"✓"'
    assert page.evaluate(mark, ".step-failed .step-icon") == '"✕"'
    pending = page.locator(".step-pending .step-icon").first
    assert pending.evaluate("e => getComputedStyle(e).borderStyle") == "dashed"


def test_the_browser_finds_an_icon_and_nothing_is_missing(browser, onramp_server, partner_site):
    session = new_session(partner_site.origin)
    page = sized_page(browser, 375)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(session["url"])
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(onramp_server + icon).status == 200
    assert page.request.get(onramp_server + "/favicon.ico").status == 200
    page.wait_for_load_state("networkidle")
    assert missing == []
