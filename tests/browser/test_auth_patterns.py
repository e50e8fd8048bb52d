"""The wider market's auth patterns in a real browser, embedded cross-site with third-party
cookies blocked: signing in through a popup (the Sandbox ERP's own provider, and Xero's
reached through Playwright routing), dropping an .ionapi file, pasting a deep link."""

from __future__ import annotations

import json
import re

import pytest
import requests
from django.test import Client
from playwright.sync_api import Route, expect

from catalog import sandbox_oauth
from catalog.sync import catalog_sync
from connections.models import Connection
from connections.services.oauth import oauth_app_set
from connections.services.partners import partner_create
from tests.browser.test_embedded_flow import open_flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PRACTICE_APP = (sandbox_oauth.CLIENT_ID, sandbox_oauth.CLIENT_SECRET)


def embedded(browser, partner_site, systems: list[str], app: tuple[str, str] | None = None):
    """The flow for one system, opened in the partner's page; (partner, page, frame). With
    ``app`` (client id and secret), the partner's OAuth app for it is registered first: a
    sign-in is offered only then."""
    catalog_sync()
    partner, secret = partner_create(name="Partner", origins=[partner_site.origin], actor="test")
    if app is not None:
        oauth_app_set(
            partner=partner, system=systems[0], client_id=app[0], client_secret=app[1], actor="t"
        )
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    body = {"end_user": {"id": "cust-1"}, "systems": systems}
    session = api.post("/api/v1/link-sessions", body, content_type="application/json").json()
    page = browser.new_page()
    open_flow(page, partner_site.origin, session["url"])
    return partner, page, page.frame_locator("iframe")


def finish(page) -> None:
    page.wait_for_function("window.results.success !== null", timeout=30_000)


def test_signing_in_through_a_popup_connects_the_sandbox(
    browser, partner_site, onramp_server, celery_worker
):
    _, page, frame = embedded(browser, partner_site, ["sandbox-erp"], PRACTICE_APP)
    frame.get_by_role("link", name=re.compile("^Sign in with Sandbox ERP")).click()
    # Nothing to prepare: straight to signing in, with what to expect.
    expect(frame.get_by_text("No password is needed in this practice system")).to_be_visible()
    frame.get_by_label("Company ID").fill("demo")
    with page.context.expect_page() as opened:
        frame.get_by_role("button", name="Sign in with Sandbox ERP").click()
    expect(frame.get_by_text("Waiting for you to sign in")).to_be_visible()
    popup = opened.value
    expect(popup.get_by_role("heading", name="Allow access to Sandbox ERP?")).to_be_visible()
    popup.get_by_role("link", name="Allow").click()
    finish(page)
    connection = Connection.objects.get()
    assert connection.method == "sign_in" and connection.status == "active"


def test_a_closed_sign_in_window_earns_a_hint_and_signing_in_again_connects(
    browser, partner_site, onramp_server, celery_worker
):
    _, page, frame = embedded(browser, partner_site, ["sandbox-erp"], PRACTICE_APP)
    frame.get_by_role("link", name=re.compile("^Sign in with Sandbox ERP")).click()
    # Nothing to prepare: straight to signing in, with what to expect.
    expect(frame.get_by_text("No password is needed in this practice system")).to_be_visible()
    frame.get_by_label("Company ID").fill("demo")
    with page.context.expect_page() as opened:
        frame.get_by_role("button", name="Sign in with Sandbox ERP").click()
    expect(
        opened.value.get_by_role("heading", name="Allow access to Sandbox ERP?")
    ).to_be_visible()
    opened.value.close()
    hint = frame.get_by_text("Closed the sign-in window, or cannot find it?")
    expect(hint).to_be_visible(timeout=60_000)
    with page.context.expect_page() as reopened:
        frame.get_by_role("button", name="Sign in with Sandbox ERP").click()
    reopened.value.get_by_role("link", name="Allow").click()
    finish(page)
    assert Connection.objects.get().status == "active"


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "coop-same-origin"])
def test_xero_consent_reached_through_routing(
    browser, partner_site, onramp_server, fake_systems, celery_worker, settings, isolated
):
    """With ``isolated``, the consent page answers ``Cross-Origin-Opener-Policy:
    same-origin`` (as real providers' pages do): the popup then looks closed to the flow and
    cannot message it, yet the sign-in completes."""
    fake = fake_systems.oauth
    fake.add_client("xero-app", "xero-secret", [f"{onramp_server}/oauth/callback/"])
    fake.serve_provider(
        authorize="/identity/connect/authorize",
        token="/connect/token",
        connections="/connections",
        resources={"/api.xro/2.0/Organisation": lambda grant, request: _organisation(grant)},
    )
    settings.ONRAMP_OUTBOUND_HOST_MAP = (
        f"*.sandbox-erp.test={onramp_server}," + fake_systems.host_map()
    )
    _, page, frame = embedded(browser, partner_site, ["xero"], ("xero-app", "xero-secret"))
    coop = {"Cross-Origin-Opener-Policy": "same-origin"} if isolated else {}
    page.context.route("https://login.xero.com/**", lambda route: _forward(route, fake.url, coop))
    expect(frame.get_by_role("heading", name="Your Xero details")).to_be_visible()  # no guide
    with page.context.expect_page() as opened:
        frame.get_by_role("button", name="Sign in with Xero").click()
    popup = opened.value
    popup.get_by_role("link", name="Allow").click()
    finish(page)
    assert Connection.objects.get().config["tenant_id"] == "tenant-1"


def _organisation(grant):
    from tests.fakes.base import Reply

    return Reply(200, {"Organisations": [{"Name": "Acme Ltd", "OrganisationID": grant.tenant}]})


def _forward(route: Route, fake_url: str, extra_headers: dict[str, str]) -> None:
    """The browser's requests to the provider go to its simulator (Host kept)."""
    request = route.request
    path = request.url.split("://", 1)[1].split("/", 1)[1]
    answer = requests.request(
        request.method,
        f"{fake_url}/{path}",
        headers={"Host": "login.xero.com"},
        allow_redirects=False,
        timeout=10,
    )
    headers = {
        k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location")
    }
    route.fulfill(status=answer.status_code, headers=headers | extra_headers, body=answer.content)


def test_an_ionapi_file_dropped_in_the_flow_connects_sxe(
    browser, partner_site, onramp_server, fake_systems, celery_worker, tmp_path
):
    file = fake_systems.ion.make_ionapi()
    fake_systems.ion.sx_operators.add(file["saak"])
    path = tmp_path / "ACME_TST_Onramp.ionapi"
    path.write_text(json.dumps(file))
    _, page, frame = embedded(browser, partner_site, ["infor-sxe"])
    frame.get_by_role("link", name=re.compile("enter details")).click()
    frame.get_by_label("Credentials file (.ionapi)").set_input_files(str(path))
    frame.get_by_role("button", name="Use this file").click()
    expect(frame.get_by_role("status")).to_contain_text("tenant ACME_TST")
    frame.get_by_label("SX.e company number").fill("1")
    frame.get_by_role("button", name="Connect").click()
    finish(page)
    assert Connection.objects.get().config["tenant"] == "ACME_TST"


def test_an_instance_address_pasted_as_a_deep_link(
    browser, partner_site, onramp_server, fake_systems, celery_worker
):
    fake_systems.odoo.keys["key-1"] = ("acme", True)
    _, page, frame = embedded(browser, partner_site, ["odoo"])
    frame.get_by_role("link", name=re.compile("enter details")).click()
    frame.get_by_label("Odoo address").fill(
        "https://odoo.acme.test/odoo/action-260?view_type=list"
    )
    frame.get_by_label("Database name").fill("acme")
    frame.get_by_label("API key").fill("key-1")
    frame.get_by_role("button", name="Connect").click()
    finish(page)
    assert Connection.objects.get().config["instance"] == "https://odoo.acme.test"
