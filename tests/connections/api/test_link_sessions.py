"""Link sessions in the partner API (``api/link_sessions.py``): creating one and every way a
request can be refused, its status, redirect URLs on the partner's own origin only, one public
token per session read without side effects, and whatever a partner sends, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from connections.models import LinkSession
from connections.services.link_sessions import link_session_complete
from connections.services.partners import partner_create
from tests.conftest import FUZZ, error_of, json_values, post
from tests.factories import connected, link_session, validated_session

pytestmark = pytest.mark.django_db


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


# --- redirect URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost@evil.example/",
        "http://127.0.0.1.evil.example/x",
        "https://app.acme.test.evil.example/",
        "https://app.acme.test@evil.example/",
        "https://app.acme.test:8443/",
        "http://app.acme.test/",
        "javascript://app.acme.test/%0aalert(1)",
        "https://evil.example/?https://app.acme.test/",
    ],
)
def test_redirect_urls_must_be_on_an_allowed_origin_exactly(api, url):
    body = {"end_user": {"id": "u"}, "redirect_url": url}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 400, url
    assert response.json()["error"]["code"] in ("invalid_redirect_url", "redirect_url_not_allowed")


def test_a_redirect_url_on_the_partners_origin_is_kept(api):
    url = "https://app.acme.test/integrations/done?tab=erp"
    body = {"end_user": {"id": "u"}, "redirect_url": url}
    created = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert created.status_code == 201
    assert LinkSession.objects.get(pk=created.json()["id"]).redirect_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://app.acme.test/done\r\nSet-Cookie: session=stolen",
        "https://app.acme.test/done\n",
        "https://app.acme.test/done\rx",
        "https://app.acme.test/done%0d%0aSet-Cookie:%20session=stolen",
        "https://app.acme.test/done?next=%0A",
        "https://app.acme.test/done#%0D",
    ],
)
def test_a_redirect_url_with_a_line_break_is_refused_clearly(api, url):
    """CR or LF, raw or percent-encoded, could split the Location header it ends up in."""
    body = {"end_user": {"id": "u"}, "redirect_url": url}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 422, url
    error = response.json()["error"]
    assert error["code"] == "invalid_redirect_url" and "line break" in error["message"]
    assert not LinkSession.objects.exists()


# --- one public token per session, read without side effects -----------------------------


def test_reading_a_session_returns_the_same_public_token_as_the_done_screen(acme, api):
    session = validated_session(acme.partner)
    first = api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"]
    second = api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"]
    assert first and first == second
    open_session, _ = link_session(acme.partner)  # not validated: no token
    assert api.get(f"/api/v1/link-sessions/{open_session.id}").json()["public_token"] is None
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": first}, content_type="application/json"
    )
    assert exchanged.status_code == 200
    assert api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"] is None


def test_the_token_the_iframe_sent_survives_the_partner_reading_the_session(acme, api):
    session = validated_session(acme.partner)
    done = LinkSession.objects.get(pk=session.pk)

    iframe_token = link_session_complete(session=done)
    api.get(f"/api/v1/link-sessions/{session.id}")
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": iframe_token}, content_type="application/json"
    )
    assert exchanged.status_code == 200


def test_no_public_token_is_minted_after_the_link_expired(acme, api):
    session = validated_session(acme.partner)
    past = timezone.now() - timedelta(seconds=1)
    LinkSession.objects.filter(pk=session.pk).update(expires_at=past, public_token_expires_at=past)
    assert api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"] is None
    token = _flow_token_for(session)
    done = Client().get(f"/connect/{token}/done/")
    assert done.status_code == 410 and "data-public-token" not in done.content.decode()
    assert LinkSession.objects.get(pk=session.pk).public_token_expires_at == past


def _flow_token_for(session: LinkSession) -> str:
    """Give a session a known link token (the real one was shown once, to its partner)."""
    from connections.security import tokens

    minted = tokens.mint(tokens.TokenKind.LINK)
    LinkSession.objects.filter(pk=session.pk).update(token_digest=minted.digest)
    return minted.value


# --- whatever a partner sends ---------------------------------------------------------------


link_session_bodies = st.fixed_dictionaries(
    {},
    optional={
        "end_user": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"id": st.text(max_size=250)},
                optional={"email": st.text(max_size=60), "organization": json_values},
            ),
        ),
        "systems": st.one_of(json_values, st.lists(st.text(max_size=70), max_size=5)),
        "connection_id": json_values,
        "allowed_origin": st.one_of(json_values, st.text(max_size=100)),
        "redirect_url": json_values,
        "locale": json_values,
        "expires_in": st.one_of(st.integers(), json_values),
    },
)


@FUZZ
@given(body=link_session_bodies)
def test_link_session_input_never_500s(api, body):
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code in (201, 400, 404), response.content
    if response.status_code != 201:
        assert set(response.json()) == {"error"}
