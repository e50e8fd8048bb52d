"""Partner keys on the API (``api/auth.py``): no valid key, no answer but a 401; never a key
in the query string; a revoked key stops working at once."""

from __future__ import annotations

import pytest
from django.test import Client

from connections.services.partners import partner_key_revoke
from tests.conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer onr_sk_nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer " + "onr_sk_" + "a" * 33},
    ],
)
def test_requests_without_a_valid_partner_key_get_401(acme, headers):
    response = Client(headers=headers).get("/api/v1/connections")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_key_in_the_query_string_is_not_accepted(acme):
    response = Client().get(f"/api/v1/connections?access_token={acme.secret}")
    assert response.status_code == 401


def test_a_revoked_partner_key_stops_working(acme, api):
    assert api.get("/api/v1/connections").status_code == 200
    partner_key_revoke(key=acme.partner.keys.get(), actor="test")
    assert api.get("/api/v1/connections").status_code == 401
