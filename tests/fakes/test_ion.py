"""The Infor ION API Gateway simulator (``tests/fakes/ion.py``) checks what the real gateway
checks, over real HTTP: its .ionapi files, the password grant, bearer tokens per tenant, and
SX.e's operators and errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.fakes.ion import API_HOST, SSO_HOST, SX_WAREHOUSES, USERS_ME, FakeIonGateway

TIMEOUT = 5


@pytest.fixture(scope="module")
def _ion_server() -> Iterator[FakeIonGateway]:
    server = FakeIonGateway().start()
    yield server
    server.stop()


@pytest.fixture
def ion(_ion_server: FakeIonGateway) -> FakeIonGateway:
    _ion_server.reset()
    return _ion_server


def sso(
    ion: FakeIonGateway, file: dict[str, str], data: dict[str, str], basic: bool = False
) -> requests.Response:
    path = urlsplit(file["pu"]).path + file["ot"]
    if basic:
        auth = (file["ci"], file["cs"])
    else:
        auth, data = None, {"client_id": file["ci"], "client_secret": file["cs"], **data}
    headers = {"Host": SSO_HOST}
    return requests.post(ion.url + path, data=data, auth=auth, headers=headers, timeout=TIMEOUT)


def password(file: dict[str, str], **overrides: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": file["saak"],
        "password": file["sask"],
        **overrides,
    }


def ion_token(ion: FakeIonGateway, file: dict[str, str]) -> str:
    answer = sso(ion, file, password(file))
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def gateway(
    ion: FakeIonGateway, tenant: str, route: str, token: str | None, body: Any = None
) -> requests.Response:
    headers = {"Host": API_HOST}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{ion.url}/{tenant}/{route}"
    if body is None:
        return requests.get(url, headers=headers, timeout=TIMEOUT)
    return requests.post(url, json=body, headers=headers, timeout=TIMEOUT)


WAREHOUSE_BODY = {"request": {"companyNumber": 1, "operatorInit": "", "operatorPassword": ""}}


def test_make_ionapi_is_a_realistic_credentials_file(ion):
    file = ion.make_ionapi("ACME_TST")
    assert file["ti"] == "ACME_TST" and file["ci"].startswith("ACME_TST~")
    assert file["iu"] == "https://mingle-ionapi.inforcloudsuite.com"
    assert file["pu"] == "https://mingle-sso.inforcloudsuite.com:443/ACME_TST/as/"
    assert (file["oa"], file["ot"], file["or"]) == (
        "authorization.oauth2",
        "token.oauth2",
        "revoke_token.oauth2",
    )
    assert {"cn", "cs", "saak", "sask"} <= file.keys()


def test_the_password_grant_gives_a_bearer_token_for_the_gateway(ion):
    file = ion.make_ionapi()
    answer = sso(ion, file, password(file))
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    me = gateway(ion, file["ti"], USERS_ME, body["access_token"])
    assert me.status_code == 200
    assert me.json()["response"]["userlist"][0]["displayName"] == "Onramp Service"


def test_the_client_may_authenticate_by_basic_or_form(ion):
    file = ion.make_ionapi()
    assert sso(ion, file, password(file), basic=True).status_code == 200
    assert sso(ion, file, password(file)).status_code == 200
    assert ion.auth_methods_seen == ["client_secret_basic", "client_secret_post"]


@pytest.mark.parametrize("field", ["username", "password"])
def test_bad_service_account_keys_are_invalid_grant(ion, field):
    file = ion.make_ionapi()
    answer = sso(ion, file, password(file, **{field: "wrong"}))
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_a_wrong_client_is_invalid_client(ion):
    file = ion.make_ionapi()
    answer = sso(ion, {**file, "cs": "wrong"}, password(file))
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
    other = ion.make_ionapi("OTHER_TST")
    foreign = sso(ion, {**file, "ci": other["ci"], "cs": other["cs"]}, password(other))
    assert foreign.status_code == 401  # a client of another tenant, at this tenant's URL


def test_only_the_password_grant_is_supported(ion):
    file = ion.make_ionapi()
    answer = sso(ion, file, password(file, grant_type="client_credentials"))
    assert (answer.status_code, answer.json()["error"]) == (400, "unsupported_grant_type")


def test_the_gateway_wants_a_live_bearer_token_of_its_tenant(ion):
    file, other = ion.make_ionapi(), ion.make_ionapi("OTHER_TST")
    token = ion_token(ion, file)
    assert gateway(ion, file["ti"], USERS_ME, None).status_code == 401
    assert gateway(ion, file["ti"], USERS_ME, "forged").status_code == 401
    assert gateway(ion, other["ti"], USERS_ME, token).status_code == 401
    later = time.time() + 7201
    ion.now = lambda: later
    assert gateway(ion, file["ti"], USERS_ME, token).status_code == 401


def test_a_revoked_ion_token_is_refused(ion):
    file = ion.make_ionapi()
    token = ion_token(ion, file)
    path = urlsplit(file["pu"]).path + file["or"]
    revoke = requests.post(
        ion.url + path,
        data={"token": token},
        auth=(file["ci"], file["cs"]),
        headers={"Host": SSO_HOST},
        timeout=TIMEOUT,
    )
    assert revoke.status_code == 200
    assert gateway(ion, file["ti"], USERS_ME, token).status_code == 401


def test_hosts_are_told_apart(ion):
    file = ion.make_ionapi()
    path = urlsplit(file["pu"]).path + file["ot"]
    on_gateway = requests.post(
        ion.url + path, data=password(file), headers={"Host": API_HOST}, timeout=TIMEOUT
    )
    assert on_gateway.status_code == 401  # the gateway wants a token before it routes
    assert "access_token" not in on_gateway.json()
    token = ion_token(ion, file)
    headers = {"Host": SSO_HOST, "Authorization": f"Bearer {token}"}
    on_sso = requests.get(f"{ion.url}/{file['ti']}/{USERS_ME}", headers=headers, timeout=TIMEOUT)
    assert on_sso.status_code == 404


def test_sx_needs_an_operator_for_the_service_account(ion):
    file = ion.make_ionapi()
    token = ion_token(ion, file)
    refused = gateway(ion, file["ti"], SX_WAREHOUSES, token, WAREHOUSE_BODY)
    assert refused.status_code == 403
    assert refused.json() == {"message": "No SX.e operator for this user"}
    ion.sx_operators.add(file["saak"])
    answer = gateway(ion, file["ti"], SX_WAREHOUSES, token, WAREHOUSE_BODY)
    assert answer.status_code == 200
    rows = answer.json()["response"]["tCodeLst"]["t-codeLst"]
    assert [row["codeValue"] for row in rows] == ["EAST", "MAIN"]


def test_sx_reports_a_bad_company_inside_a_200(ion):
    file = ion.make_ionapi()
    ion.sx_operators.add(file["saak"])
    body = {"request": {"companyNumber": 7}}
    answer = gateway(ion, file["ti"], SX_WAREHOUSES, ion_token(ion, file), body)
    assert answer.status_code == 200
    assert answer.json()["response"]["cErrorMessage"]
