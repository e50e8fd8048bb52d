"""The partner API as a whole (``api/__init__.py``): its schema and docs, and whatever it is
sent (any JSON, raw bytes, NUL characters), never a 500.

Each resource's endpoints are tested in the file named after its router (``test_auth.py``,
``test_link_sessions.py``, ``test_connections.py``, ``test_proxy.py``...)."""

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FUZZ, json_values

pytestmark = pytest.mark.django_db


# --- its schema and docs ---------------------------------------------------------------------


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


# --- whatever a partner sends ---------------------------------------------------------------


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
