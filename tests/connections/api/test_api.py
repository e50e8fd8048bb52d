"""The partner API: every endpoint, its auth, and bad input (always a 4xx with the error shape)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from connections.models import Connection, Event, LinkSession
from connections.services.link_sessions import link_session_complete
from connections.services.partners import partner_create, partner_key_revoke
from tests.conftest import FUZZ, json_values
from tests.factories import connected, link_session, validated_session

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: object = None, **kwargs):
    return client.post(
        f"/api/v1{path}",
        body if body is not None else {},
        content_type="application/json",
        **kwargs,
    )


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


# --- authentication -------------------------------------------------------------------------


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


# --- link sessions --------------------------------------------------------------------------


def test_create_link_session(api, settings):
    response = post(
        api,
        "/link-sessions",
        {"end_user": {"id": "cust-1", "email": "a@b.co"}, "systems": ["infoplus"]},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("ls_")
    assert body["link_token"].startswith("onr_lt_")
    assert body["url"] == f"{settings.ONRAMP_PUBLIC_URL}/connect/{body['link_token']}/"
    session = LinkSession.objects.get(pk=body["id"])
    assert session.token_digest != body["link_token"]
    assert session.allowed_origin == "https://app.acme.test"  # the partner's only origin
    assert timedelta(minutes=29) < session.expires_at - timezone.now() <= timedelta(minutes=30)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"end_user": {}}, 400, "invalid_request"),
        ({"end_user": {"id": ""}}, 400, "invalid_request"),
        ({"end_user": {"id": "x" * 201}}, 400, "invalid_request"),
        ({"end_user": {"id": "u", "email": "not-an-email"}}, 400, "invalid_request"),
        ({"end_user": {"id": "u"}, "systems": ["no-such-system"]}, 400, "unknown_system"),
        ({"end_user": {"id": "u"}, "systems": "infoplus"}, 400, "invalid_request"),
        (
            {"end_user": {"id": "u"}, "allowed_origin": "https://evil.test"},
            400,
            "origin_not_allowed",
        ),
        (
            {"end_user": {"id": "u"}, "allowed_origin": "javascript:alert(1)"},
            400,
            "invalid_origin",
        ),
        ({"end_user": {"id": "u"}, "expires_in": 10}, 400, "invalid_request"),
        ({"end_user": {"id": "u"}, "expires_in": 8 * 24 * 3600}, 400, "invalid_request"),
        (
            {"end_user": {"id": "u"}, "redirect_url": "http://evil.test/"},
            400,
            "invalid_redirect_url",
        ),
        ({"end_user": {"id": "u"}, "connection_id": "conn_nope"}, 404, "unknown_connection"),
        ({"end_user": {"id": "u"}, "surprise": True}, 400, "invalid_request"),
        ([1, 2], 400, "invalid_request"),
    ],
)
def test_bad_link_session_requests_are_refused_clearly(api, body, status, code):
    response = post(api, "/link-sessions", body)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/link-sessions", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"


def test_disabled_systems_cannot_be_offered(api):
    from catalog.models import System

    System.objects.filter(slug="mintsoft").update(enabled=False)
    response = post(api, "/link-sessions", {"end_user": {"id": "u"}, "systems": ["mintsoft"]})
    assert error_of(response)["code"] == "unknown_system"


def test_reconnect_must_name_the_partners_own_connection(acme, api):
    other, _ = partner_create(name="Other", origins=[], actor="test")
    theirs, _ = connected(other)
    mine, _ = connected(acme.partner)
    assert (
        post(
            api, "/link-sessions", {"end_user": {"id": "u"}, "connection_id": theirs.id}
        ).status_code
        == 404
    )
    ok = post(api, "/link-sessions", {"end_user": {"id": "u"}, "connection_id": mine.id})
    assert ok.status_code == 201


def test_link_session_status_and_hosted_public_token(acme, api):
    session, _ = link_session(acme.partner)
    body = api.get(f"/api/v1/link-sessions/{session.id}").json()
    assert body["status"] == "open" and body["public_token"] is None
    done = validated_session(acme.partner)
    body = api.get(f"/api/v1/link-sessions/{done.id}").json()
    assert body["status"] == "completed"
    assert body["connection_id"] == done.connection_id
    exchanged = post(api, "/token-exchange", {"public_token": body["public_token"]})
    assert exchanged.status_code == 200
    assert api.get(f"/api/v1/link-sessions/{done.id}").json()["status"] == "exchanged"


def test_other_partners_sessions_are_invisible(acme, api):
    other, _ = partner_create(name="Other", origins=[], actor="test")
    session, _ = link_session(other)
    assert api.get(f"/api/v1/link-sessions/{session.id}").status_code == 404


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


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc"])
def test_bad_list_parameters(api, query):
    response = api.get(f"/api/v1/connections?{query}")
    assert response.status_code == 400
    error_of(response)


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
    connection.refresh_from_db()
    assert connection.credentials == ""
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


# --- audit, docs ----------------------------------------------------------------------------


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


def test_openapi_lists_every_endpoint():
    schema = Client().get("/api/v1/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/api/v1/link-sessions",
        "/api/v1/link-sessions/{session_id}",
        "/api/v1/token-exchange",
        "/api/v1/connections",
        "/api/v1/connections/{connection_id}",
        "/api/v1/connections/{connection_id}/revalidate",
        "/api/v1/connections/{connection_id}/rotate-token",
        "/api/v1/connection",
    }


def test_docs_page_is_local_and_unframeable():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "swagger-ui-bundle.js" in html
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@FUZZ
@given(body=json_values, path=st.sampled_from(["/token-exchange", "/link-sessions"]))
def test_any_json_never_500s(api, body, path):
    response = api.post(f"/api/v1{path}", body, content_type="application/json")
    assert response.status_code < 500


@FUZZ
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_500(api, raw):
    response = api.post("/api/v1/token-exchange", raw, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/connections?end_user_id=a%00b"])
def test_nul_characters_are_a_400_not_a_database_error(api, path):
    assert api.get(path).status_code == 400
    body = {"end_user": {"id": "\x00"}}
    assert (
        api.post("/api/v1/link-sessions", body, content_type="application/json").status_code == 400
    )
