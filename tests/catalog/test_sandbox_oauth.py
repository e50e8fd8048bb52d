"""The Sandbox ERP's consent page, as an end user meets it in the sign-in window: whose app
asks, for what, in words."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from catalog import sandbox_oauth
from connections.services.oauth import oauth_app_set
from connections.services.partners import partner_update_branding

pytestmark = pytest.mark.django_db


@pytest.fixture
def consent(acme, end_user):
    oauth_app_set(
        partner=acme.partner,
        system="sandbox-erp",
        client_id=sandbox_oauth.CLIENT_ID,
        client_secret=sandbox_oauth.CLIENT_SECRET,
        actor="test",
    )

    def open_consent(**spec) -> str:
        user = end_user(**spec)
        to_provider = user.sign_in("sandbox-erp", company="demo")
        assert to_provider.status_code == 302, to_provider.content
        location = urlsplit(to_provider["Location"])
        page = user.client.get(f"{location.path}?{location.query}")
        assert page.status_code == 200
        return page.content.decode()

    return open_consent


def test_the_consent_page_names_the_partners_app_and_what_it_may_do(consent):
    page = consent()
    assert "<strong>Acme</strong> asks to:" in page
    assert "<li>Read your orders: numbers, customers, totals and status</li>" in page
    assert "orders:read" not in page


def test_the_name_is_the_one_the_end_user_saw_in_the_flow(acme, consent):
    partner_update_branding(partner=acme.partner, values={"display_name": "Acme Sync"}, actor="t")
    assert "<strong>Acme Sync</strong> asks to:" in consent()


def test_a_request_onramp_did_not_issue_names_no_app(client):
    query = {
        "client_id": sandbox_oauth.CLIENT_ID,
        "redirect_uri": sandbox_oauth.callback_url(),
        "response_type": "code",
        "code_challenge_method": "S256",
        "code_challenge": "x" * 43,
        "state": "not-ours",
        "scope": "orders:read",
    }
    page = client.get("/sandbox/oauth/authorize", query).content.decode()
    assert "An app asks to:" in page
