"""Schemes the wider catalog needs, each against a simulator of a real system: HMAC-signed
queries (Unleashed), OAuth 2.0 client credentials in a tenant (Business Central's app) and the
OAuth 2.0 password grant (Acumatica, Manhattan Active)."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.registry import get_definition
from connections.verification.run import build_target, verify
from tests.factories import connected
from tests.fakes.base import Reply

pytestmark = pytest.mark.django_db


def check(slug: str, method_id: str, config: dict, credentials: dict):
    definition = get_definition(slug)
    steps: dict[str, str] = {}
    target = build_target(definition, definition.method(method_id), config)
    return verify(target, credentials, steps.update)


@pytest.mark.parametrize(("key", "code"), [("the-real-key", None), ("someone-elses", "forbidden")])
def test_unleashed_signatures(fake_systems, key, code):
    fake_systems.unleashed.keys["api-1"] = "the-real-key"
    outcome = check("unleashed", "api_key", {"api_id": "api-1"}, {"api_key": key})
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


@pytest.fixture
def entra(fake_systems):
    fake = fake_systems.oauth
    fake.add_client("bc-app", "bc-secret", [])
    fake.machine_clients["bc-app"] = (
        "tenant-9",
        "https://api.businesscentral.dynamics.com/.default",
    )
    fake.serve_provider(
        authorize="/unused/authorize",
        token="/tenant-9/oauth2/v2.0/token",
        resources={"/v2.0/Production/": lambda grant, request: Reply(200, {"value": [{"id": 1}]})},
    )
    return fake


BC_APP = {"environment": "Production", "tenant_id": "tenant-9", "client_id": "bc-app"}


@pytest.mark.parametrize(("secret", "code"), [("bc-secret", None), ("wrong", "invalid_client")])
def test_business_central_app_signs_in_with_client_credentials(entra, secret, code):
    outcome = check(
        "microsoft-dynamics-365-business-central", "app", BC_APP, {"client_secret": secret}
    )
    assert (outcome.code if outcome else None) == code
    assert entra.auth_methods_seen[-1:] == (["client_secret_post"] if code is None else [])


def test_the_proxy_keeps_the_client_credentials_token(acme, entra):
    _, token = connected(
        acme.partner,
        system="microsoft-dynamics-365-business-central",
        method="app",
        config=BC_APP,
        credentials={"client_secret": "bc-secret"},
    )
    partner = Client(headers={"Authorization": f"Bearer {token}"})
    for _ in range(3):
        assert partner.get("/api/v1/proxy/companies").status_code == 200
    tokens = [r for r in entra.requests if r.path.endswith("/token")]
    assert len(tokens) == 1


@pytest.fixture
def password_grants(fake_systems):
    """Acumatica's and Manhattan Active's token endpoints: a client, and users who sign in."""
    fake = fake_systems.oauth
    fake.add_client("88358B02@Acme", "acu-secret", [])
    fake.add_client("onramp-client", "manh-secret", [])
    fake.password_users["integration@acme.com"] = ("right-password", "")
    fake.password_users["api-reader"] = ("right-password", "api")
    rows = lambda grant, request: Reply(200, [{"InventoryID": {"value": "AALEGO500"}}])  # noqa: E731
    user = lambda grant, request: Reply(200, {"data": {"UserId": grant.user}})  # noqa: E731
    fake.serve_provider(
        authorize="/unused/authorize",
        token="/AcumaticaERP/identity/connect/token",
        resources={"/AcumaticaERP/entity/Default/23.200.001/StockItem": rows},
    )
    fake.serve_provider(
        authorize="/unused/authorize",
        token="/oauth/token",
        resources={"/organization/api/organization/user/allDetails/userId/": user},
    )
    return fake


ACUMATICA = {
    "instance_url": "https://erp.acme-acumatica.test/AcumaticaERP",
    "endpoint_version": "23.200.001",
    "client_id": "88358B02@Acme",
    "username": "api-reader",
}


@pytest.mark.parametrize(
    ("secret", "password", "code"),
    [
        ("acu-secret", "right-password", None),
        ("acu-secret", "wrong", "invalid_credentials"),
        ("wrong", "right-password", "invalid_client"),
    ],
)
def test_acumatica_signs_in_with_the_password_grant(password_grants, secret, password, code):
    outcome = check(
        "acumatica",
        "password_grant",
        ACUMATICA,
        {"client_secret": secret, "password": password},
    )
    assert (outcome.code if outcome else None) == code
    token_call = next(r for r in password_grants.requests if r.path.endswith("/token"))
    assert token_call.path == "/AcumaticaERP/identity/connect/token"  # under the instance path
    if code is None:
        assert password_grants.requests[-1].path.endswith("/entity/Default/23.200.001/StockItem")
        assert password_grants.auth_methods_seen == ["client_secret_post"]


def test_manhattan_sends_its_client_as_basic_and_reads_the_signed_in_user(password_grants):
    config = {
        "unique_id": "acme",
        "client_id": "onramp-client",
        "username": "integration@acme.com",
    }
    credentials = {"client_secret": "manh-secret", "password": "right-password"}
    assert check("manhattan-active-wm", "password_grant", config, credentials) is None
    assert password_grants.auth_methods_seen == ["client_secret_basic"]
    last = password_grants.requests[-1]
    assert last.path.endswith("/user/allDetails/userId/integration@acme.com")
    assert last.headers["authorization"].startswith("Bearer ")
    wrong = check("manhattan-active-wm", "password_grant", config, credentials | {"password": "x"})
    assert wrong is not None and wrong.code == "invalid_credentials"
