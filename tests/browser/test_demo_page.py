"""The demo partner page a newcomer opens after `make demo`."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.sync import catalog_sync
from tests.browser.conftest import connect_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_page_connects_shows_a_masked_token_reads_orders_and_revokes(browser, onramp_server):
    catalog_sync()
    call_command("seed_demo", "--base-url", onramp_server, stdout=StringIO())
    page = browser.new_page()
    # As after `make demo`: the demo page on one site, the flow it embeds on another.
    demo_site = onramp_server.replace("//localhost:", "//127.0.0.1:")
    page.goto(f"{demo_site}/demo/")
    page.get_by_role("button", name="Connect your ERP").click()
    connect_sandbox(page.frame_locator("iframe"))

    panel = page.locator("#connection")
    expect(panel).to_contain_text("sandbox-erp", timeout=30_000)
    expect(panel).to_contain_text("active")
    token_shown = panel.locator("dd").nth(3).inner_text()
    assert re.fullmatch(r"onr_ct_\w{6}…", token_shown)  # masked, never the whole token
    expect(page.locator("#events")).to_contain_text("onSuccess")
    page.frame_locator("iframe").get_by_role("button", name="Continue").click()  # it waits

    page.get_by_role("button", name="Read purchase orders").click()  # a sync, then the list
    rows = page.locator("#orders-rows tr")
    expect(rows).to_have_count(5, timeout=60_000)
    expect(rows.first.locator("td").first).to_contain_text("PO-")
    expect(page.locator("#events")).to_contain_text("GET /api/v1/purchase-orders → 200")

    page.get_by_role("button", name="Revoke connection").click()
    expect(panel).to_contain_text("revoked — the token now gets 401")
    expect(page.get_by_role("button", name="Read purchase orders")).to_be_hidden()
    expect(page.locator("#orders-panel")).to_be_hidden()
