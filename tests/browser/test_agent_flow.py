"""An on-premises system in Chromium, embedded cross-site: the end user enters an address on
their private network, their IT pairs the agent with the code on screen, the screen moves on
by itself, the end user confirms the certificate, and the check passes through the agent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connections.models import Connection, ConnectionStatus
from tests.browser.test_embedded_flow import open_flow, start_session
from tests.connections.agents.conftest import onprem  # noqa: F401 (the fixture)
from tests.connections.agents.harness import INSTANCE_HOST

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_on_premises_system_connects_through_the_agent_in_the_embedded_flow(
    browser,
    partner_site,
    onramp_server,
    onprem,  # noqa: F811
):
    _, session = start_session(partner_site.origin)
    page = browser.new_page()
    open_flow(page, partner_site.origin, session["url"])
    frame = page.frame_locator("iframe")
    frame.get_by_label("Search systems").fill("erpnext self-hosted")
    frame.get_by_role("option", name=re.compile("ERPNext \\(self-hosted")).click()
    frame.get_by_role("link", name=re.compile("enter details")).click()
    frame.get_by_label("ERPNext address").fill(onprem.standin.site)
    frame.get_by_label("API key").fill("k1")
    frame.get_by_label("API secret").fill("s3cr3t-canary-value")
    frame.get_by_role("button", name="Connect").click()

    expect(
        frame.get_by_role("heading", name=re.compile("through the Onramp agent"))
    ).to_be_visible()
    expect(frame.get_by_text("systemd").first).to_be_visible()
    code = frame.locator("#pairing-code").input_value()
    agent = onprem.agent()
    paired = agent.pair(code, onramp_server, onprem.resolve())
    assert paired.returncode == 0, paired.stderr
    agent.run()

    confirm = frame.get_by_role("button", name="Confirm and connect")
    expect(confirm).to_be_visible(timeout=60_000)  # the screen moved on by itself
    fingerprint = onprem.standin.fingerprint.upper()
    assert frame.locator("code.fingerprint").inner_text().replace(":", "") == fingerprint
    confirm.click()

    page.wait_for_function("window.results.success !== null", timeout=60_000)
    connection = Connection.objects.get(end_user_id="cust-1")
    assert connection.status == ConnectionStatus.ACTIVE and connection.agent_id
    assert onprem.standin.requests[-1].host == INSTANCE_HOST
