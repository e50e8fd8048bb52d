"""HMAC-signed queries (``schemes/hmac_query.py``) against a simulator of Unleashed: the live
check signs with the key, which never travels, and so does every proxied query."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import connected, live_check

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("key", "code"), [("the-real-key", None), ("someone-elses", "forbidden")])
def test_unleashed_signatures(fake_systems, key, code):
    fake_systems.unleashed.keys["api-1"] = "the-real-key"
    outcome = live_check("unleashed", "api_key", {"api_id": "api-1"}, {"api_key": key})
    assert (outcome.code if outcome else None) == code
    sent = fake_systems.unleashed.requests[-1].headers
    assert sent["client-type"] == "onramp/connect" and "the-real-key" not in str(sent)


def test_unleashed_signs_each_proxied_query(acme, fake_systems):
    fake_systems.unleashed.keys["api-1"] = "the-real-key"
    _, token = connected(
        acme.partner,
        system="unleashed",
        config={"api_id": "api-1"},
        credentials={"api_key": "the-real-key"},
    )
    partner = Client(headers={"Authorization": f"Bearer {token}"})
    assert partner.get("/api/v1/proxy/Currencies?pageSize=5&page=2").status_code == 200
    assert fake_systems.unleashed.requests[-1].query == {"pageSize": ["5"], "page": ["2"]}
