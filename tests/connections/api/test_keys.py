"""Self-serve keys (``/api/v1/keys``): a partner creates test keys, lists its keys and rolls
them (the old key works until it expires) without an operator; a key that was revoked or
has expired says so, unlike a mistyped one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from connections.models import Event, PartnerKey
from connections.services.partners import MAX_KEYS, partner_create, partner_key_revoke

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


def post(client: Client, path: str, body: dict | None = None):
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json")


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def code_of(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def test_key(api) -> dict:
    created = post(api, "/keys", {"mode": "test", "label": "laptop"})
    assert created.status_code == 201, created.content
    return created.json()


def test_a_live_key_creates_a_test_key_that_works_and_is_shown_once(api, acme, test_key):
    assert test_key["secret"].startswith("onr_sk_test_") and test_key["mode"] == "test"
    assert test_key["display"] == test_key["secret"][:18] + "…"
    assert test_key["label"] == "laptop" and test_key["expires_at"] is None
    assert bearer(test_key["secret"]).get("/api/v1/partner").json()["mode"] == "test"
    listed = api.get("/api/v1/keys").json()["data"]
    assert [key["id"] for key in listed] == [
        test_key["id"],
        acme.partner.keys.get(label="initial").id,
    ]
    assert all("secret" not in key for key in listed)
    assert set(listed[0]) == {
        "id",
        "display",
        "mode",
        "label",
        "created_at",
        "last_used_at",
        "expires_at",
    }
    assert listed[0]["last_used_at"] is not None  # it was used just now
    stored = PartnerKey.objects.get(pk=test_key["id"])
    assert test_key["secret"] not in (stored.digest, stored.display)
    created = Event.objects.get(kind="partner_key.created", data__key=test_key["id"])
    assert test_key["secret"] not in str(created.data)


def test_a_live_key_can_make_another_live_key(api):
    created = post(api, "/keys", {"mode": "live"})
    assert created.status_code == 201 and created.json()["secret"].startswith("onr_sk_live_")
    assert bearer(created.json()["secret"]).get("/api/v1/connections").status_code == 200


def test_a_test_key_makes_test_keys_only_and_sees_only_them(api, acme, test_key):
    tester = bearer(test_key["secret"])
    refused = post(tester, "/keys", {"mode": "live"})
    assert refused.status_code == 403 and code_of(refused) == "live_key_required"
    assert post(tester, "/keys", {"mode": "test"}).status_code == 201
    assert {key["mode"] for key in tester.get("/api/v1/keys").json()["data"]} == {"test"}
    live_id = acme.partner.keys.get(label="initial").id
    assert post(tester, f"/keys/{live_id}/roll").status_code == 404
    assert tester.delete(f"/api/v1/keys/{live_id}").status_code == 404
    assert PartnerKey.objects.get(pk=live_id).expires_at is None


def test_another_partners_keys_do_not_exist(api, test_key):
    _, other_secret = partner_create(name="Other", origins=[], actor="test")
    other = bearer(other_secret)
    assert [k["mode"] for k in other.get("/api/v1/keys").json()["data"]] == ["live"]
    assert post(other, f"/keys/{test_key['id']}/roll").status_code == 404
    assert other.delete(f"/api/v1/keys/{test_key['id']}").status_code == 404
    assert bearer(test_key["secret"]).get("/api/v1/keys").status_code == 200


def test_rolling_keeps_the_old_key_working_for_a_day_then_it_answers_key_expired(api, acme):
    old = acme.partner.keys.get()
    rolled = post(api, f"/keys/{old.id}/roll")
    assert rolled.status_code == 201, rolled.content
    new = rolled.json()
    assert new["mode"] == "live" and new["label"] == "initial" and new["id"] != old.id
    expires = timezone.datetime.fromisoformat(new["rolled"]["expires_at"])
    assert abs((expires - timezone.now()).total_seconds() - DAY) < 60
    assert api.get("/api/v1/connections").status_code == 200  # the old key, still working
    assert bearer(new["secret"]).get("/api/v1/connections").status_code == 200
    listed = {key["id"]: key for key in api.get("/api/v1/keys").json()["data"]}
    assert listed[old.id]["expires_at"] is not None and listed[new["id"]]["expires_at"] is None
    # A day later:
    PartnerKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = api.get("/api/v1/connections")
    assert expired.status_code == 401 and code_of(expired) == "key_expired"
    assert "replaced it" in expired.json()["error"]["message"]
    assert bearer(new["secret"]).get("/api/v1/connections").status_code == 200
    assert old.id not in {
        key["id"] for key in bearer(new["secret"]).get("/api/v1/keys").json()["data"]
    }
    event = Event.objects.get(kind="partner_key.rolled")
    assert event.data["key"] == old.id and event.data["replaced_by"] == new["id"]
    assert new["secret"] not in str(event.data)


@pytest.mark.parametrize(
    ("expires_in", "status"), [(0, 201), (7 * DAY, 201), (7 * DAY + 1, 400), (-1, 400)]
)
def test_a_rolled_key_lasts_at_most_seven_days(api, acme, expires_in, status):
    old = acme.partner.keys.get()
    rolled = post(api, f"/keys/{old.id}/roll", {"expires_in": expires_in})
    assert rolled.status_code == status, rolled.content
    if status == 201 and expires_in == 0:  # rolled at once: the old key has stopped
        assert code_of(api.get("/api/v1/connections")) == "key_expired"


def test_a_key_that_has_ended_cannot_be_rolled(api, acme, test_key):
    partner_key_revoke(key=PartnerKey.objects.get(pk=test_key["id"]), actor="test")
    refused = post(api, f"/keys/{test_key['id']}/roll")
    assert refused.status_code == 409 and code_of(refused) == "key_ended"


def test_a_revoked_key_answers_key_revoked_and_a_typo_does_not(api, acme, test_key):
    assert api.delete(f"/api/v1/keys/{test_key['id']}").status_code == 204
    revoked = bearer(test_key["secret"]).get("/api/v1/connections")
    assert revoked.status_code == 401 and code_of(revoked) == "key_revoked"
    typo = test_key["secret"][:-1] + ("a" if test_key["secret"][-1] != "a" else "b")
    for wrong in (typo, "onr_sk_test_nope"):
        answer = bearer(wrong).get("/api/v1/connections")
        assert answer.status_code == 401 and code_of(answer) == "unauthorized"
    assert Event.objects.filter(kind="partner_key.revoked", data__key=test_key["id"]).exists()


def test_a_key_cannot_revoke_itself(api, acme):
    own = acme.partner.keys.get()
    refused = api.delete(f"/api/v1/keys/{own.id}")
    assert refused.status_code == 409 and code_of(refused) == "key_in_use"
    assert api.get("/api/v1/keys").status_code == 200


def test_a_partner_has_a_bounded_number_of_keys(api):
    for _ in range(MAX_KEYS - 1):
        assert post(api, "/keys").status_code == 201
    refused = post(api, "/keys")
    assert refused.status_code == 409 and code_of(refused) == "too_many_keys"


@pytest.mark.parametrize(
    "body", [{"mode": "staging"}, {"label": "x" * 121}, {"surprise": 1}, {"label": "a\x00"}]
)
def test_bad_key_requests_are_refused_clearly(api, body):
    refused = post(api, "/keys", body)
    assert refused.status_code == 400 and code_of(refused) == "invalid_request"


def test_curl_without_a_body_makes_a_test_key_and_rolls_for_a_day(api, acme):
    old = acme.partner.keys.get()
    made = api.post("/api/v1/keys", "", content_type="application/json")
    assert made.status_code == 201 and made.json()["mode"] == "test"
    rolled = api.post(f"/api/v1/keys/{old.id}/roll", "", content_type="application/json")
    assert rolled.status_code == 201 and rolled.json()["rolled"]["expires_at"]
