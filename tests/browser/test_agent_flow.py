"""An on-premises system in Chromium, embedded cross-site: the end user enters an address on
their private network, their IT pairs the agent with the code on screen, the screen moves on
by itself, the end user confirms the certificate, and the check passes through the agent; then
the partner proxies through it, the agent goes away and comes back, and is revoked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connections.models import Connection, ConnectionStatus
from tests.browser.test_embedded_flow import open_flow, start_session
from tests.conftest import bearer, post
from tests.connections.agents.conftest import onprem  # noqa: F401 (the fixture)
from tests.connections.agents.harness import INSTANCE_HOST
from tests.stack import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_on_premises_system_connects_through_the_agent_in_the_embedded_flow(
    browser,
    partner_site,
    onramp_server,
    onprem,  # noqa: F811
):
    api, _ = start_session(partner_site.origin)  # the partner, its key, the catalog
    body = {
        "end_user": {"id": "cust-1"},
        "allowed_origin": partner_site.origin,
        "systems": ["erpnext-on-premises"],
    }
    session = post(api, "/link-sessions", body).json()
    page = browser.new_page()
    open_flow(page, partner_site.origin, session["url"])
    frame = page.frame_locator("iframe")
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

    # The partner's side, as the partner meets it: proxy, the agent gone and back, revoked.
    public_token = page.evaluate("window.results.success.token")
    exchanged = post(api, "/token-exchange", {"public_token": public_token})
    token = exchanged.json()["access_token"]
    assert bearer(token).get("/api/v1/proxy/api/resource/Company").status_code == 200
    agent.kill()
    wait_for(lambda: _status(connection) == ConnectionStatus.AGENT_OFFLINE, 60, "agent_offline")
    agent.run()
    wait_for(lambda: _status(connection) == ConnectionStatus.ACTIVE, 60, "active again")
    assert api.delete(f"/api/v1/agents/{connection.agent_id}").status_code == 204
    assert _status(connection) == ConnectionStatus.AGENT_OFFLINE
    assert bearer(token).get("/api/v1/proxy/api/resource/Company").status_code == 409


def _status(connection) -> str:
    return Connection.objects.get(pk=connection.pk).status
