"""Connections in the partner API (``api/connections.py``): exchanging a public token, listing,
reading, revalidating, rotating and revoking connections, introspection with a connection's
own token, what is audited, and whatever list filters a partner sends, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from connections.models import Connection, Event, LinkSession
from connections.services.link_sessions import link_session_complete
from connections.services.partners import partner_create
from tests.conftest import FUZZ, bearer, error_of, post
from tests.factories import connected, validated_session

pytestmark = pytest.mark.django_db


# --- token exchange -------------------------------------------------------------------------


def test_public_token_exchange_works_once(acme, api):
    public_token = link_session_complete(session=validated_session(acme.partner))
    first = post(api, "/token-exchange", {"public_token": public_token})
    assert first.status_code == 200
    body = first.json()
    assert body["connection_id"].startswith("conn_")
    assert body["access_token"].startswith("onr_ct_")
    assert body["system"] == "infoplus" and body["status"] == "active"
    again = post(api, "/token-exchange", {"public_token": public_token})
    assert again.status_code == 400
    assert error_of(again)["code"] == "invalid_public_token"


def test_public_token_expires_after_30_minutes(acme, api):
    session = validated_session(acme.partner)
    public_token = link_session_complete(session=session)
    LinkSession.objects.filter(pk=session.pk).update(
        public_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert post(api, "/token-exchange", {"public_token": public_token}).status_code == 400


def test_a_public_token_works_only_for_its_partner(acme):
    _, other_secret = partner_create(name="Other", origins=[], actor="test")
    public_token = link_session_complete(session=validated_session(acme.partner))
    response = post(bearer(other_secret), "/token-exchange", {"public_token": public_token})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"public_token": ""},
        {"public_token": "onr_pt_x"},
        {"public_token": 12},
        {"public_token": "x" * 500},
    ],
)
def test_bad_exchange_requests(api, body):
    response = post(api, "/token-exchange", body)
    assert response.status_code == 400
    error_of(response)


# --- connections ----------------------------------------------------------------------------


def test_list_filter_and_page_connections(acme, api):
    first, _ = connected(acme.partner, end_user_id="a")
    second, _ = connected(acme.partner, end_user_id="b")
    other, _ = partner_create(name="Other", origins=[], actor="test")
    connected(other, end_user_id="a")
    listed = api.get("/api/v1/connections").json()
    assert {c["id"] for c in listed["data"]} == {first.id, second.id}
    assert listed["has_more"] is False
    only_a = api.get("/api/v1/connections?end_user_id=a").json()["data"]
    assert [c["id"] for c in only_a] == [first.id]
    assert api.get("/api/v1/connections?system=mintsoft").json()["data"] == []
    assert len(api.get("/api/v1/connections?status=active").json()["data"]) == 2
    page = api.get("/api/v1/connections?limit=1").json()
    assert len(page["data"]) == 1 and page["has_more"] is True


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "offset=-1", "limit=abc", "status=bogus"]
)
def test_bad_list_parameters(api, query):
    response = api.get(f"/api/v1/connections?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in error_of(response)["message"]


def test_get_connection_shows_config_never_credentials(acme, api):
    connection, _ = connected(acme.partner, credentials={"api_key": "canary-key-8841"})
    response = api.get(f"/api/v1/connections/{connection.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["config"] == {"site": "acme"}
    assert body["last_error"] is None
    assert "canary-key-8841" not in response.content.decode()


def test_other_partners_connections_are_404(acme, api):
    other, _ = partner_create(name="Other", origins=[], actor="test")
    theirs, _ = connected(other)
    for method, path in [
        ("get", ""),
        ("post", "/revalidate"),
        ("post", "/rotate-token"),
        ("delete", ""),
    ]:
        response = getattr(api, method)(f"/api/v1/connections/{theirs.id}{path}")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert Connection.objects.get(pk=theirs.pk).status == "active"


def test_revalidate_passes_then_fails_when_the_key_is_withdrawn(
    acme, api, fake_systems, django_capture_on_commit_callbacks, rate_clock
):
    def revalidate() -> dict:
        rate_clock(61)  # one revalidation a minute per connection
        with django_capture_on_commit_callbacks(execute=True):
            response = post(api, f"/connections/{connection.id}/revalidate")
        assert response.status_code == 202
        return api.get(f"/api/v1/connections/{connection.id}").json()

    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, token = connected(acme.partner)
    assert revalidate()["status"] == "active"
    fake_systems.infoplus.sites["acme"] = set()
    failed = revalidate()
    assert failed["status"] == "invalid"
    assert failed["last_error"]["code"] == "invalid_credentials"
    assert "rejected these credentials" in failed["last_error"]["message"]
    assert bearer(token).get("/api/v1/connection").status_code == 401
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    assert revalidate()["status"] == "active"
    assert bearer(token).get("/api/v1/connection").status_code == 200


def test_rotate_token_replaces_the_old_one(acme, api):
    connection, old = connected(acme.partner)
    response = post(api, f"/connections/{connection.id}/rotate-token")
    new = response.json()["access_token"]
    assert new.startswith("onr_ct_") and new != old
    assert bearer(old).get("/api/v1/connection").status_code == 401
    assert bearer(new).get("/api/v1/connection").status_code == 200


def test_revoke_stops_the_token_at_once_and_erases_secrets(acme, api):
    connection, token = connected(acme.partner)
    assert bearer(token).get("/api/v1/connection").status_code == 200
    response = api.delete(f"/api/v1/connections/{connection.id}")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert bearer(token).get("/api/v1/connection").status_code == 401
    assert response.json()["next_check_at"] is None  # never checked again
    connection.refresh_from_db()
    assert connection.credentials == "" and connection.next_check_at is None
    assert post(api, f"/connections/{connection.id}/rotate-token").status_code == 409
    assert post(api, f"/connections/{connection.id}/revalidate").status_code == 409


# --- introspection --------------------------------------------------------------------------


def test_introspection_returns_the_connection(acme):
    connection, token = connected(acme.partner, end_user_id="cust-9")
    response = bearer(token).get("/api/v1/connection")
    assert response.status_code == 200
    assert response.json() == {
        "id": connection.id,
        "system": "infoplus",
        "status": "active",
        "end_user_id": "cust-9",
        "config": {"site": "acme"},
    }
    assert connection.tokens.get().last_used_at is not None


def test_introspection_refuses_other_credentials(acme):
    _, token = connected(acme.partner)
    assert bearer(acme.secret).get("/api/v1/connection").status_code == 401
    assert Client().get(f"/api/v1/connection?access_token={token}").status_code == 401
    mangled = token[:-1] + ("x" if token[-1] != "x" else "y")
    assert bearer(mangled).get("/api/v1/connection").status_code == 401


# --- audit ----------------------------------------------------------------------------------


def test_state_changes_are_audited_without_secrets(acme, api):
    connection, _ = connected(acme.partner, credentials={"api_key": "canary-audit-1234"})
    post(api, f"/connections/{connection.id}/rotate-token")
    api.delete(f"/api/v1/connections/{connection.id}")
    kinds = set(Event.objects.filter(connection=connection).values_list("kind", flat=True))
    assert {
        "connection.created",
        "connection_token.created",
        "connection_token.rotated",
        "connection.revoked",
    } <= kinds
    for event in Event.objects.all():
        assert "canary-audit-1234" not in str(event.data)
    revoke = Event.objects.get(kind="connection.revoked")
    assert revoke.actor.startswith("partner_key:key_")


# --- whatever a partner sends ---------------------------------------------------------------


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "offset", "cursor", "status", "system", "end_user_id"]),
        st.text(max_size=30),
    )
)
def test_list_filters_never_500(api, query):
    assert api.get("/api/v1/connections", query).status_code in (200, 400)
