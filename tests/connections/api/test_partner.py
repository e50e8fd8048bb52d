"""What a partner controls: the flow's branding (defaults and per session, contrast checked)
and test keys that see only the Sandbox ERP and test connections."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from connections.models import Event, LinkSession, PartnerKey
from connections.services.partners import partner_key_create
from tests.conftest import FUZZ
from tests.factories import connected

pytestmark = pytest.mark.django_db
LOGO = "https://cdn.acme.test/logo.svg"


def patch(client: Client, body: dict):
    return client.patch("/api/v1/partner", body, content_type="application/json")


def new_session(client: Client, **body):
    body = {"end_user": {"id": "u-1"}, **body}
    return client.post("/api/v1/link-sessions", body, content_type="application/json")


def flow_page(url: str) -> str:
    return Client().get(url).content.decode()


def test_branding_defaults_reach_every_screen(api, acme):
    answer = patch(
        api,
        {
            "display_name": "Acme Books",
            "logo_url": LOGO,
            "primary_colour": "#0F766E",
            "support_url": "https://help.acme.test/connect",
            "lead_text": "Connect your ERP so invoices sync every night.",
        },
    )
    assert answer.status_code == 200
    assert answer.json()["primary_colour"] == "#0f766e" and answer.json()["mode"] == "live"
    assert Event.objects.filter(kind="partner.updated", partner=acme.partner).exists()
    html = flow_page(new_session(api).json()["url"])
    assert "Connect to Acme Books" in html and f'src="{LOGO}"' in html
    assert "--brand: #0f766e;" in html and 'href="https://help.acme.test/connect"' in html
    assert "invoices sync every night" in html
    assert api.get("/api/v1/partner").json()["display_name"] == "Acme Books"


def test_a_colour_white_text_cannot_be_read_on_is_refused_with_one_that_can(api):
    refused = patch(api, {"primary_colour": "#ffcc00"})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "invalid_branding" and "1.5:1" in error["message"]
    suggestion = re.search(r"such as (#[0-9a-f]{6})", error["message"]).group(1)
    assert patch(api, {"primary_colour": suggestion}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"logo_url": "http://cdn.acme.test/logo.svg"},
        {"support_url": "javascript:alert(1)"},
        {"primary_colour": "teal"},
        {"display_name": "Acme\x00"},
        {"surprise": "x"},
    ],
)
def test_bad_branding_is_refused_clearly(api, body):
    refused = patch(api, body)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] in ("invalid_branding", "invalid_request")


def test_a_session_overrides_the_partners_branding(api, acme):
    created = new_session(
        api, branding={"display_name": "Acme for Warehouses", "primary_colour": "#7c2d12"}
    )
    assert created.status_code == 201
    html = flow_page(created.json()["url"])
    assert "Connect to Acme for Warehouses" in html and "--brand: #7c2d12;" in html
    plain = flow_page(new_session(api).json()["url"])
    assert "Connect to Acme<" in plain.replace("</title>", "<") and "--brand: #4f46e5;" in plain
    assert new_session(api, branding={"primary_colour": "#fef08a"}).status_code == 400


@pytest.fixture
def test_key(acme) -> Client:
    _, secret = partner_key_create(partner=acme.partner, actor="test", mode="test")
    assert secret.startswith("onr_sk_test_")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_a_test_key_sees_only_the_sandbox_erp(test_key):
    created = new_session(test_key)
    assert created.status_code == 201
    session = LinkSession.objects.get(pk=created.json()["id"])
    assert session.systems == ["sandbox-erp"] and session.mode == "test"
    refused = new_session(test_key, systems=["netsuite"])
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "test_mode_system"
    assert test_key.get("/api/v1/partner").json()["mode"] == "test"


def test_test_and_live_connections_never_meet(api, test_key, acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    live, _ = connected(acme.partner)
    assert [c["id"] for c in api.get("/api/v1/connections").json()["data"]] == [live.id]
    assert test_key.get("/api/v1/connections").json()["data"] == []
    assert test_key.get(f"/api/v1/connections/{live.id}").status_code == 404
    assert test_key.delete(f"/api/v1/connections/{live.id}").status_code == 404


def test_using_a_key_records_when_it_was_last_used(api, acme):
    key = PartnerKey.objects.get(partner=acme.partner)
    assert key.last_used_at is None
    api.get("/api/v1/connections")
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/api/v1/oauth-apps/xero", {"client_id": "c", "client_secret": "s"}),
        ("patch", "/api/v1/partner", {"support_url": "https://evil.test/help"}),
    ],
)
def test_a_test_key_cannot_touch_settings_live_keys_share(test_key, method, path, body):
    call = getattr(test_key, method)
    answer = call(path, body, content_type="application/json") if body else call(path)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "live_key_required"


def test_a_test_key_lists_only_the_sandbox_erp(test_key):
    systems = test_key.get("/api/v1/systems").json()["data"]
    assert [system["slug"] for system in systems] == ["sandbox-erp"]


def test_the_lead_text_per_language_is_merged_and_reaches_that_languages_flow(api, acme):
    texts = {"de-DE": "Verbinden Sie Ihr ERP.", "fr": "Connectez votre ERP.", "es": None}
    answer = patch(api, {"lead_text": "Connect your ERP.", "lead_text_translations": texts})
    assert answer.status_code == 200
    assert answer.json()["lead_text_translations"] == {
        "de": "Verbinden Sie Ihr ERP.",
        "fr": "Connectez votre ERP.",
    }
    german = flow_page(new_session(api, locale="de").json()["url"])
    assert "Verbinden Sie Ihr ERP." in german
    spanish = flow_page(new_session(api, locale="es").json()["url"])
    assert "Connect your ERP." in spanish  # no Spanish text: the default one
    changed = patch(api, {"lead_text_translations": {"fr": "", "es": "Conecte su ERP."}})
    assert changed.json()["lead_text_translations"] == {
        "de": "Verbinden Sie Ihr ERP.",
        "es": "Conecte su ERP.",
    }
    assert api.get("/api/v1/partner").json()["lead_text_translations"]["es"] == "Conecte su ERP."


@pytest.mark.parametrize(
    ("texts", "says"),
    [
        ({"tlh": "Qapla'"}, "'tlh' is not one of en, de, fr, es"),
        ({"de": "x" * 301}, "lead_text_translations.de: at most 300 characters"),
        ({"fr": "ligne\x07"}, "lead_text_translations.fr: control characters"),
        ({"de": "Verbinden\x00"}, ""),
        (["de"], ""),
    ],
)
def test_a_lead_text_in_a_language_we_do_not_speak_or_too_long_is_refused(api, acme, texts, says):
    refused = patch(api, {"lead_text_translations": texts})
    assert refused.status_code == 400
    assert says in refused.json()["error"]["message"]
    acme.partner.refresh_from_db()
    assert acme.partner.lead_text_translations == {}


@FUZZ
@given(
    texts=st.dictionaries(
        st.text(max_size=20), st.one_of(st.none(), st.text(max_size=320)), max_size=10
    )
)
def test_any_lead_texts_never_500(api, texts):
    answer = patch(api, {"lead_text_translations": texts})
    assert answer.status_code in (200, 400)
