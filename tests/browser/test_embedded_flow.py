"""The product as a user meets it: embedded cross-site in Chromium, third-party cookies off."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client
from playwright.sync_api import Frame, FrameLocator, Page, expect

from catalog.sync import catalog_sync
from connections.models import ValidationAttempt
from connections.services.partners import partner_create
from tests.browser.conftest import connect_sandbox
from tests.factories import practice_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start_session(origin: str, allowed_origin: str | None = None) -> tuple[Client, dict]:
    catalog_sync()
    partner, secret = partner_create(name="Partner", origins=[origin], actor="test")
    practice_sign_in(partner)  # as `make demo`: the Sandbox offers both of its methods
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    body = {"end_user": {"id": "cust-1"}, "allowed_origin": allowed_origin or origin}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return api, response.json()


def open_flow(page: Page, partner_origin: str, url: str) -> None:
    page.goto(f"{partner_origin}/?url={quote(url)}")
    page.click("#connect")


def embed(browser, partner_site) -> tuple[Client, Page, FrameLocator]:
    """A partner page on its own site with the flow opened in it: (partner API, page, flow)."""
    api, session = start_session(partner_site.origin)
    page = browser.new_page()
    open_flow(page, partner_site.origin, session["url"])
    return api, page, page.frame_locator("iframe")


def flow_frame(page: Page, onramp_url: str) -> Frame:
    page.wait_for_function(
        "url => [...document.querySelectorAll('iframe')].some(f => f.src.startsWith(url))",
        arg=onramp_url,
    )
    for _ in range(50):
        frame = next((f for f in page.frames if f.url.startswith(onramp_url)), None)
        if frame is not None:
            return frame
        page.wait_for_timeout(100)
    raise AssertionError("the flow frame did not load")


def test_embedded_cross_site_flow_connects_the_sandbox_erp(
    browser, partner_site, onramp_server, celery_worker
):
    api, page, frame = embed(browser, partner_site)
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_visible()

    inner = flow_frame(page, onramp_server)
    set_cookie = "document.cookie = 'probe=1; SameSite=None; Secure'; document.cookie"
    assert inner.evaluate(set_cookie) == "", "third-party cookies must be blocked in this run"

    frame.get_by_label("Search systems").fill("sandbox")
    frame.get_by_role("option", name="Sandbox ERP").click()
    frame.get_by_role("link", name=re.compile("^Username and password")).click()
    expect(frame.get_by_role("heading", name="Before you connect Sandbox ERP")).to_be_visible()
    frame.get_by_role("link", name=re.compile("enter details")).click()
    frame.get_by_label("Company ID").fill("https://demo.sandbox-erp.test/home")
    frame.get_by_label("Username").fill("demo")
    frame.get_by_label("Password").fill("sandbox-demo")
    frame.get_by_role("button", name="Connect").click()

    page.wait_for_function("window.results.success !== null", timeout=30_000)
    results = page.evaluate("window.results")
    assert results["success"]["token"].startswith("onr_pt_")
    assert results["success"]["meta"]["system"] == "sandbox-erp"
    assert {"READY", "OPEN", "VIEW_GUIDE", "ENTER_DETAILS"} <= set(results["events"])
    if celery_worker:  # the validation really ran in the Celery worker process
        assert ValidationAttempt.objects.get().status == "succeeded"

    exchanged = api.post(
        "/api/v1/token-exchange",
        {"public_token": results["success"]["token"]},
        content_type="application/json",
    )
    assert exchanged.status_code == 200
    access = Client(headers={"Authorization": f"Bearer {exchanged.json()['access_token']}"})
    introspected = access.get("/api/v1/connection").json()
    assert introspected["system"] == "sandbox-erp" and introspected["status"] == "active"
    assert introspected["config"] == {"company": "demo", "username": "demo"}
    assert api.delete(f"/api/v1/connections/{introspected['id']}").status_code == 200
    assert access.get("/api/v1/connection").status_code == 401
    assert browser.cookies() == []  # the flow needed no cookie at all


def test_a_failed_check_shows_what_to_do_and_the_retry_succeeds(
    browser, partner_site, onramp_server, celery_worker
):
    _, page, frame = embed(browser, partner_site)
    connect_sandbox(frame, username="readonly")
    alert = frame.get_by_role("alert")
    expect(alert).to_contain_text("missing a permission: Orders: read")
    expect(alert).to_contain_text("Ask an administrator")
    frame.get_by_role("link", name="Edit details and try again").click()
    expect(frame.get_by_label("Password")).to_have_value("")  # never echoed back
    frame.get_by_label("Username").fill("demo")
    frame.get_by_role("button", name="Connect").click()  # blank password: keep the one on file
    page.wait_for_function("window.results.success !== null", timeout=30_000)


def test_closing_the_flow_calls_on_exit(browser, partner_site, onramp_server):
    _, page, frame = embed(browser, partner_site)
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_visible()
    frame.get_by_role("button", name="Close").click()
    page.wait_for_function("window.results.exit !== null")
    assert page.locator("iframe").count() == 0


def test_an_unlisted_origin_cannot_frame_the_flow(browser, partner_site, onramp_server):
    # The session is pinned to another origin than the page that frames it.
    _, pinned_elsewhere = start_session("https://app.partner.test")
    page = browser.new_page()
    open_flow(page, partner_site.origin, pinned_elsewhere["url"])
    page.wait_for_timeout(1500)
    frame = next((f for f in page.frames if f.url.startswith(onramp_server)), None)
    assert frame is None or "Which system" not in (frame.content() if frame else "")
    assert page.evaluate("window.results.events") == []


def test_forged_messages_are_ignored(browser, partner_site, onramp_server):
    _, session = start_session(partner_site.origin)
    page = browser.new_page()
    open_flow(page, partner_site.origin, session["url"])
    expect(
        page.frame_locator("iframe").get_by_role("heading", name="Which system do you use?")
    ).to_be_visible()
    page.evaluate("""() => window.postMessage(
        {source: "onramp", type: "success", public_token: "onr_pt_forged"}, "*")""")
    page.evaluate("""() => {
        const other = document.createElement("iframe");
        other.srcdoc = "<script>parent.postMessage({source:'onramp',type:'success'," +
                       "public_token:'onr_pt_forged2'}, '*')<\\/script>";
        document.body.appendChild(other);
    }""")
    page.wait_for_timeout(500)
    assert page.evaluate("window.results.success") is None


def test_browsing_by_category_searching_and_asking_for_a_missing_system(
    browser, partner_site, onramp_server
):
    from catalog.models import SystemRequest

    _, page, frame = embed(browser, partner_site)
    expect(frame.get_by_role("heading", name="Popular")).to_be_visible()
    frame.get_by_label("Kind of system").select_option(label="Maintenance (CMMS)")
    expect(frame.get_by_role("heading", name="Maintenance (CMMS)")).to_be_visible()
    expect(frame.get_by_role("option", name=re.compile("^Limble"))).to_be_visible()
    frame.get_by_label("Search systems").fill("lmble")  # a typo, within the category
    expect(frame.locator(".system-card")).to_have_count(1)
    expect(frame.get_by_role("option", name=re.compile("^Limble"))).to_be_visible()
    frame.get_by_label("Search systems").fill("")
    frame.get_by_label("Kind of system").select_option(label="All")
    expect(frame.get_by_role("heading", name="Popular")).to_be_visible()
    frame.get_by_label("Search systems").fill("quarkly erp")
    expect(frame.get_by_text("No system matches")).to_be_visible()
    expect(frame.get_by_label("The system you use")).to_have_value("quarkly erp")
    frame.get_by_label("The system you use").fill("Quarkly ERP Cloud")
    frame.get_by_role("button", name="Send").click()
    expect(frame.get_by_text("know you use Quarkly ERP Cloud")).to_be_visible()
    page.wait_for_function("window.results.events.includes('SYSTEM_REQUESTED')")
    assert SystemRequest.objects.get().name == "Quarkly ERP Cloud"


def test_events_count_what_the_user_did_once(browser, partner_site, onramp_server):
    """OPEN once per open, though a language switch reloads the first screen; SELECT_SYSTEM
    for a system whose one method skips the methods screen, and not again on Back."""
    _, page, frame = embed(browser, partner_site)
    frame.get_by_role("form", name="Language").get_by_role("button", name="Deutsch").click()
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    frame.get_by_role("form", name="Sprache").get_by_role("button", name="English").click()
    expect(frame.locator("html")).to_have_attribute("lang", "en")
    frame.get_by_label("Search systems").fill("infoplus")
    frame.get_by_role("option", name=re.compile("^Infoplus")).click()  # one method: its guide
    expect(frame.get_by_role("heading", name=re.compile("Infoplus"))).to_be_visible()
    frame.get_by_role("link", name=re.compile("Back")).first.click()  # to the catalog
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_visible()
    frame.get_by_label("Search systems").fill("sandbox")
    frame.get_by_role("option", name="Sandbox ERP").click()
    frame.get_by_role("link", name=re.compile("^Username and password")).click()
    expect(frame.get_by_role("heading", name="Before you connect Sandbox ERP")).to_be_visible()
    frame.get_by_role("link", name=re.compile("Back")).first.click()  # to its methods again
    expect(frame.get_by_role("heading", name=re.compile("Sandbox ERP"))).to_be_visible()

    page.wait_for_function("window.results.events.filter(e => e === 'VIEW_GUIDE').length >= 2")
    results = page.evaluate("window.results")
    selected = [
        m["system"]
        for e, m in zip(results["events"], results["metas"], strict=True)
        if e == "SELECT_SYSTEM"
    ]
    assert results["events"].count("OPEN") == 1
    assert selected == ["infoplus", "sandbox-erp"]
    first_guide = results["events"].index("VIEW_GUIDE")
    assert results["events"].index("SELECT_SYSTEM") < first_guide
