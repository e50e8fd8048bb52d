"""NetSuite in a real browser, embedded cross-site, against the NetSuite simulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.test_embedded_flow import embed
from tests.keys import EC_P256, openssl_pair

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ACCOUNT = "1234567_SB1"
M2M_SCREEN_BUDGET = 6


def screen_of(frame: FrameLocator) -> str:
    return frame.locator("section.screen").first.get_attribute("data-screen") or ""


def go_to_details(page: Page, frame: FrameLocator, method: str, seen: list[str]) -> None:
    expect(frame.get_by_role("heading", name="Which system do you use?")).to_be_visible()
    seen.append(screen_of(frame))
    frame.get_by_label("Search systems").fill("netsuite")
    frame.get_by_role("option", name=re.compile("NetSuite")).click()
    expect(frame.get_by_role("heading", name=re.compile("How should we connect"))).to_be_visible()
    seen.append(screen_of(frame))
    frame.get_by_role("link", name=re.compile(method)).click()
    expect(frame.get_by_role("heading", name="Before you connect NetSuite")).to_be_visible()
    seen.append(screen_of(frame))
    frame.get_by_role("link", name=re.compile("enter details")).click()
    expect(frame.get_by_role("heading", name="Your NetSuite details")).to_be_visible()
    seen.append(screen_of(frame))


def finish(page: Page, frame: FrameLocator, seen: list[str]) -> str:
    frame.get_by_role("button", name="Connect").click()
    # A quick check answers the submit with the done screen itself (no progress screen), and
    # the partner's page may close the flow as soon as it hears of the success.
    page.wait_for_function("window.results.success !== null", timeout=60_000)
    seen.append("done")  # success is posted by the done screen only
    return page.evaluate("window.results.success.token")


def test_m2m_with_a_generated_certificate(
    browser, partner_site, onramp_server, fake_systems, celery_worker
):
    account = fake_systems.netsuite.add_account(ACCOUNT)
    api, page, frame = embed(browser, partner_site)
    seen: list[str] = []
    go_to_details(page, frame, "OAuth 2.0 with a certificate", seen)

    frame.get_by_role("button", name="Generate the certificate").click()
    expect(frame.get_by_role("status")).to_contain_text("Certificate ready (ES256)")
    with page.expect_download() as download:
        frame.get_by_role("link", name=re.compile("Download the certificate")).click()
    certificate = Path(download.value.path()).read_text()
    assert certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in certificate

    # In NetSuite, the administrator maps the downloaded certificate and copies two ids.
    integration = account.add_integration()
    mapping = account.map_certificate(integration, certificate)
    frame.get_by_label("Account ID").fill("https://1234567-sb1.app.netsuite.com/app/center")
    frame.get_by_label("Client ID").fill(integration.client_id)
    frame.get_by_label("Certificate ID").fill(mapping.certificate_id)
    public_token = finish(page, frame, seen)

    assert seen[:4] == ["choose", "method", "prepare", "details"]
    assert len(seen) == len(set(seen)) <= M2M_SCREEN_BUDGET
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": public_token}, content_type="application/json"
    ).json()
    assert exchanged["system"] == "netsuite" and exchanged["status"] == "active"
    assert len(account.issued) == 1  # NetSuite granted a token to Onramp's assertion


def test_m2m_with_openssl_files(
    browser, partner_site, onramp_server, fake_systems, tmp_path, celery_worker
):
    public, private = openssl_pair(tmp_path, EC_P256)
    account = fake_systems.netsuite.add_account(ACCOUNT)
    integration = account.add_integration()
    mapping = account.map_certificate(integration, public.read_text())
    _, page, frame = embed(browser, partner_site)
    go_to_details(page, frame, "OAuth 2.0 with a certificate", [])

    frame.get_by_text(re.compile("make it with OpenSSL")).click()
    expect(frame.locator("#cmd-rsa")).to_contain_text("rsa_padding_mode:pss")
    frame.get_by_label("Certificate (public.pem)").set_input_files(public)
    frame.get_by_label("Private key (private.pem)").set_input_files(private)
    frame.get_by_role("button", name="Check and use these files").click()
    expect(frame.get_by_role("status")).to_contain_text("Certificate ready (ES256)")
    frame.get_by_label("Account ID").fill("1234567-SB1")
    frame.get_by_label("Client ID").fill(integration.client_id)
    frame.get_by_label("Certificate ID").fill(mapping.certificate_id)
    finish(page, frame, [])


def test_m2m_refusal_shows_the_login_audit_trail(
    browser, partner_site, onramp_server, fake_systems, celery_worker
):
    account = fake_systems.netsuite.add_account(ACCOUNT)
    _, page, frame = embed(browser, partner_site)
    go_to_details(page, frame, "OAuth 2.0 with a certificate", [])
    frame.get_by_role("button", name="Generate the certificate").click()
    expect(frame.get_by_role("status")).to_be_visible()
    integration = account.add_integration()
    frame.get_by_label("Account ID").fill(ACCOUNT)
    frame.get_by_label("Client ID").fill(integration.client_id)
    frame.get_by_label("Certificate ID").fill("NoSuchCertificateId")
    frame.get_by_role("button", name="Connect").click()
    alert = frame.get_by_role("alert")
    expect(alert).to_contain_text("invalid_client")
    expect(alert).to_contain_text("View Login Audit Trail")


def test_token_based_auth(browser, partner_site, onramp_server, fake_systems, celery_worker):
    account = fake_systems.netsuite.add_account(ACCOUNT)
    integration = account.add_integration(m2m=False, tba=True)
    token = account.add_token(integration)
    _, page, frame = embed(browser, partner_site)
    go_to_details(page, frame, "Token-Based Authentication", [])
    expect(frame.get_by_text("Generate the certificate")).to_have_count(0)
    frame.get_by_label("Account ID").fill("1234567_sb1")
    frame.get_by_label("Consumer key").fill(integration.client_id)
    frame.get_by_label("Consumer secret").fill(integration.consumer_secret)
    frame.get_by_label("Token ID").fill(token.token_id)
    frame.get_by_label("Token secret").fill(token.token_secret)
    finish(page, frame, [])
    assert fake_systems.netsuite.login_audit == []
