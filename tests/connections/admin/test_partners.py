"""The partners' page (``admin/partners.py``): exact origins only, stored normalised; a colour
white text can be read on; a new key shown once, on the page and nowhere else."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.utils import quote
from django.test import Client

from connections.models import Partner, PartnerKey
from tests.connections.services.test_partners import BAD_ORIGINS


def partner_form(**overrides) -> dict:
    return {
        "name": "Acme",
        "primary_colour": "#4f46e5",
        "allowed_origins": "https://app.acme.test",
        "is_active": "on",
        "keys-TOTAL_FORMS": "0",
        "keys-INITIAL_FORMS": "0",
        **overrides,
    }


@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_the_admin_refuses_what_is_not_an_exact_origin(operator, origin):
    admin = operator()
    response = admin.post("/admin/connections/partner/add/", partner_form(allowed_origins=origin))
    assert response.status_code == 200  # the form again, with the error
    assert "is not an origin" in response.content.decode()
    assert not Partner.objects.exists()


def test_the_admin_stores_origins_normalised(operator):
    admin = operator()
    origins = "HTTPS://App.Acme.test:443\nhttps://admin.acme.test\n\nhttps://admin.acme.test"
    response = admin.post("/admin/connections/partner/add/", partner_form(allowed_origins=origins))
    assert response.status_code == 302
    assert Partner.objects.get().allowed_origins == [
        "https://app.acme.test",  # as browsers write it (event.origin has no :443)
        "https://admin.acme.test",
    ]


def test_a_new_key_is_shown_once_on_the_page_and_never_put_in_a_cookie(operator, acme):
    admin = operator()
    response = admin.post(
        "/admin/connections/partner/",
        {"action": "create_key", "_selected_action": [acme.partner.pk]},
    )
    page = response.content.decode()
    secret = re.search(r"onr_sk_live_[A-Za-z0-9]+", page).group(0)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert secret not in response.get("Location", "")
    assert secret not in admin.get("/admin/connections/partner/").content.decode()
    assert PartnerKey.objects.filter(partner=acme.partner, label="admin").exists()
    key_works = Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/connections")
    assert key_works.status_code == 200


def test_the_admin_refuses_a_low_contrast_colour(acme, operator):
    admin = operator()
    page = admin.post(
        f"/admin/connections/partner/{quote(acme.partner.pk)}/change/",
        {"name": "Acme", "primary_colour": "#a3e635", "allowed_origins": "https://app.acme.test"},
    )
    assert page.status_code == 200 and "WCAG AA needs 4.5:1" in page.content.decode()


def test_the_admin_sets_the_lead_text_per_language_checked_like_the_api(operator):
    admin = operator()
    texts = '{"de-DE": "Verbinden Sie Ihr ERP.", "fr": ""}'
    saved = admin.post(
        "/admin/connections/partner/add/", partner_form(lead_text_translations=texts)
    )
    assert saved.status_code == 302
    assert Partner.objects.get().lead_text_translations == {"de": "Verbinden Sie Ihr ERP."}
    for bad, says in (('{"tlh": "x"}', "is not one of"), ('["de"]', "like {")):
        page = admin.post(
            f"/admin/connections/partner/{quote(Partner.objects.get().pk)}/change/",
            partner_form(lead_text_translations=bad),
        )
        assert page.status_code == 200 and says in page.content.decode().replace("&quot;", '"')
