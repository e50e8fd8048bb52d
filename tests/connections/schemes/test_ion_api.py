"""Infor SX.e through the ION API Gateway (``schemes/ion_api.py``, with the credentials-file
step and ``security/ionapi.py``): the .ionapi file dropped in the flow, read strictly, its
secrets kept encrypted; the password grant and SX.e calls checked by the gateway simulator."""

from __future__ import annotations

import json

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connections.models import Connection, CredentialFile, ValidationAttempt
from connections.services.credentials import connection_credentials
from tests.end_user import HTMX

pytestmark = pytest.mark.django_db
STEP = "s/infor-sxe/ionapi/credentials-file/upload/"
DETAILS = "s/infor-sxe/ionapi/details/"


def drop(user, content: bytes | dict, name: str = "ACME_TST_Onramp.ionapi"):
    data = json.dumps(content).encode() if isinstance(content, dict) else content
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return user.post(STEP, {"ionapi": upload}, headers=HTMX)


@pytest.fixture
def ionapi(fake_systems):
    file = fake_systems.ion.make_ionapi()
    fake_systems.ion.sx_operators.add(file["saak"])
    return file


def test_the_dropped_file_is_shown_back_without_its_secrets(end_user, ionapi):
    user = end_user()
    response = drop(user, ionapi)
    page = response.content.decode()
    assert response.status_code == 200
    assert "tenant ACME_TST" in page and "“Onramp”" in page
    for secret in ("cs", "saak", "sask", "ci"):
        assert ionapi[secret] not in page
    stored = CredentialFile.objects.get()
    assert ionapi["sask"] not in stored.secrets and stored.summary["tenant"] == "ACME_TST"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "This is not an .ionapi file"),
        (b'{"hello": "world"}', "This is not an .ionapi file"),
        (
            {"ti": "ACME_TST", "cn": "Portal", "ci": "x", "cs": "y", "ru": "https://a.b/cb"},
            "belongs to a web application",
        ),
        (
            {"ti": "ACME_TST", "cn": "App", "ci": "x", "cs": "y", "iu": "https://a.b"},
            "has no service account",
        ),
        ({"ti": "T", "cn": "A", "ci": "x", "saak": "k", "sask": "s"}, "incomplete (no “cs”)"),
        (
            {
                "ti": "T",
                "cn": "A",
                "ci": "x",
                "cs": "y",
                "iu": "http://a.b",
                "pu": "https://c.d/",
                "ot": "t",
                "saak": "k",
                "sask": "s",
            },
            "not https",
        ),
        (b"x" * 70_000, "too large"),
    ],
)
def test_wrong_files_are_refused_saying_what_to_do(end_user, content, message):
    user = end_user()
    response = drop(user, content)
    assert response.status_code == 422 and message in response.content.decode()
    assert not CredentialFile.objects.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 60_000 + b"]" * 4_000,  # nested deeper than Python's parser goes
        b'{"ti": ' + b"[" * 30_000,
        b'{"ti": ' + b"7" * 5_000 + b"}",  # more digits than Python turns into an int
        b'{"ti": "T", "x": -' + b"9" * 60_000 + b"}",
    ],
    ids=["deep-array", "deep-in-object", "long-int", "long-negative-int"],
)
def test_hostile_json_gets_the_file_message_not_a_server_error(end_user, onramp_server, content):
    user = end_user()
    response = requests.post(
        f"{onramp_server}{user.base}{STEP}",
        files={"ionapi": ("ACME_TST_Onramp.ionapi", content)},
        headers=HTMX,
        timeout=30,
    )
    assert response.status_code == 422 and "This is not an .ionapi file" in response.text
    assert not CredentialFile.objects.exists()


def submit(user, company: str = "1"):
    return user.submit(DETAILS, {"company_number": company})


def test_a_dropped_file_connects_sxe_end_to_end(end_user, ionapi, fake_systems):
    user = end_user()
    drop(user, ionapi)
    assert submit(user).status_code == 303
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "succeeded", attempt.error_message
    connection = Connection.objects.get()
    assert connection.config == {
        "company_number": "1",
        "tenant": "ACME_TST",
        "app_name": "Onramp",
        "ion_url": "https://mingle-ionapi.inforcloudsuite.com",
        "token_url": "https://mingle-sso.inforcloudsuite.com:443/ACME_TST/as/token.oauth2",
    }
    assert connection_credentials(connection)["secret_key"] == ionapi["sask"]
    assert CredentialFile.objects.get().secrets == ""  # the connection holds the only copy
    grant = next(r for r in fake_systems.ion.requests if r.path.endswith("token.oauth2"))
    assert b"grant_type=password" in grant.body


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ("unknown_keys", "invalid_grant", "service account"),
        ("no_operator", "forbidden", "no SX.e operator"),
        ("wrong_company", "check_refused", "Invalid Company Number"),
    ],
)
def test_each_failure_says_what_to_fix(end_user, ionapi, fake_systems, change, code, words):
    user = end_user()
    if change == "unknown_keys":
        ionapi = {**ionapi, "sask": "a-secret-key-from-an-old-file"}
    if change == "no_operator":
        fake_systems.ion.sx_operators.clear()
    drop(user, ionapi)
    submit(user, "9" if change == "wrong_company" else "1")
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "failed" and attempt.error_code == code
    assert words in f"{attempt.error_message} {attempt.error_advice} {attempt.error_detail}"


def test_details_need_the_file_first(end_user, ionapi):
    user = end_user()
    response = user.post(DETAILS, {"company_number": "1"})
    assert response.status_code == 422 and "Add the .ionapi credentials file first" in (
        response.content.decode()
    )


def test_the_proxy_buys_one_ion_token_for_several_calls(end_user, ionapi, fake_systems, acme, api):
    user = end_user()
    drop(user, ionapi)
    submit(user)
    public = api.get(f"/api/v1/link-sessions/{ValidationAttempt.objects.get().link_session_id}")
    exchanged = api.post(
        "/api/v1/token-exchange",
        {"public_token": public.json()["public_token"]},
        content_type="application/json",
    ).json()
    partner = Client(headers={"Authorization": f"Bearer {exchanged['access_token']}"})
    for _ in range(2):
        answer = partner.post(
            "/api/v1/proxy/SX/rest/sxapirestservice/sxapiicgetwarehouselist",
            {"request": {"companyNumber": 1}},
            content_type="application/json",
        )
        assert answer.status_code == 200 and answer.json()["response"]["cErrorMessage"] == ""
    grants = [r for r in fake_systems.ion.requests if r.path.endswith("token.oauth2")]
    assert len(grants) == 2  # one for the live check, one kept for the proxy
