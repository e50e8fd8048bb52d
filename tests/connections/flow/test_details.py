"""The details screen (``flow/views/details.py``, ``flow/forms.py``): typed values kept as
drafts but never secrets, a failed submit that lists each problem, secrets that can be shown,
instance addresses read from a pasted link or refused when Onramp may not reach them, and
whatever is typed, never a 500."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from connections.models import Connection, LinkSession, ValidationAttempt
from tests.conftest import FUZZ
from tests.factories import link_session

pytestmark = pytest.mark.django_db


def test_typed_values_are_kept_but_never_secrets(end_user):
    user = end_user()
    saved = user.post("s/infoplus/api_key/draft/", {"site": "acme-draft", "api_key": "key-SECRET"})
    assert saved.status_code == 204
    drafts = LinkSession.objects.get(pk=user.session.pk).drafts
    assert drafts == {"infoplus:api_key": {"site": "acme-draft"}}
    html = Client().get(user.base + "s/infoplus/api_key/details/").content.decode()
    assert 'value="acme-draft"' in html and "key-SECRET" not in html


def test_a_failed_submit_lists_each_problem_and_says_why_secrets_are_empty(end_user):
    user = end_user()
    details = "s/sandbox-erp/password/details/"
    answer = user.post(details, {"company": "", "password": "x"})
    html = answer.content.decode()
    assert answer.status_code == 422
    summary = html[html.index('id="error-summary"') : html.index("</ul>")]
    assert 'href="#id_company"' in summary and 'href="#id_username"' in summary
    assert "we cleared this field" in html and 'value="x"' not in html


def test_secrets_can_be_shown_and_identifiers_are_not_masked(end_user):
    user = end_user()
    html = user.get("s/netsuite/tba/details/").content.decode()
    assert re.search(r'<input type="text"[^>]*id="id_consumer_key"', html)
    assert re.search(r'<input type="text"[^>]*id="id_token_id"', html)
    assert re.search(r'<input type="password"[^>]*id="id_token_secret"', html)
    assert 'data-reveal="id_token_secret"' in html and 'data-reveal="id_token_id"' not in html


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


def test_a_deep_link_pasted_in_the_flow_becomes_the_instance_address(
    acme, instances, django_capture_on_commit_callbacks
):
    _, token = link_session(acme.partner)
    form = {
        "instance": "odoo.acme.test/odoo/action-123?debug=1#menu",
        "database": "acme",
        "api_key": "key-1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(f"/connect/{token}/s/odoo/api_key/details/", form)
    assert response.status_code == 303
    assert ValidationAttempt.objects.get().status == "succeeded"
    assert Connection.objects.get().config == {
        "instance": "https://odoo.acme.test",
        "database": "acme",
    }


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("http://odoo.acme.test", "https:// address"),
        ("https://10.1.2.3/odoo", "private or reserved"),
        ("https://localhost:8069", "private or reserved"),
        ("https://[::1]/", "private or reserved"),
        ("https://user:pw@odoo.acme.test/", "Enter the address"),
    ],
)
def test_instance_addresses_onramp_may_not_reach_are_refused_on_the_form(acme, address, message):
    _, token = link_session(acme.partner)
    form = {"instance": address, "database": "acme", "api_key": "key-1"}
    response = Client().post(f"/connect/{token}/s/odoo/api_key/details/", form)
    assert response.status_code == 422 and message in response.content.decode()
    assert not ValidationAttempt.objects.exists()
