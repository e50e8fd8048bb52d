"""Whatever a partner or an end user sends, the answer is never a 500."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import link_session

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)
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


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "offset", "cursor", "status", "system", "end_user_id"]),
        st.text(max_size=30),
    )
)
def test_list_filters_never_500(api, query):
    assert api.get("/api/v1/connections", query).status_code in (200, 400)


@FUZZ
@given(
    site=st.text(max_size=300),
    key=st.text(max_size=300),
    extra=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
)
def test_details_form_input_never_500s(acme, site, key, extra, settings):
    settings.ONRAMP_OUTBOUND_HOST_MAP = "*.infopluswms.com=http://127.0.0.1:9"
    settings.ONRAMP_VALIDATIONS_PER_IP_HOUR = 10_000
    _, token = link_session(acme.partner)
    response = Client().post(
        f"/connect/{token}/s/infoplus/api_key/details/", {**extra, "site": site, "api_key": key}
    )
    assert response.status_code in (303, 422, 429), response.status_code


@FUZZ
@given(path=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40))
def test_flow_urls_never_500(acme, path):
    _, token = link_session(acme.partner)
    response = Client().get(f"/connect/{token}/{path}")
    assert response.status_code < 500


@pytest.mark.parametrize("path", ["/api/v1/connections?end_user_id=a%00b"])
def test_nul_characters_are_a_400_not_a_database_error(api, path):
    assert api.get(path).status_code == 400
    body = {"end_user": {"id": "\x00"}}
    assert (
        api.post("/api/v1/link-sessions", body, content_type="application/json").status_code == 400
    )


def test_search_ignores_nul_characters(acme):
    _, token = link_session(acme.partner)
    assert Client().get(f"/connect/{token}/systems/?q=net%00suite").status_code == 200
