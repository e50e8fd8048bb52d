"""Schemes the wider catalog needs, each against a simulator of a real system: HMAC-signed
queries (Unleashed) and OAuth 2.0 client credentials in a tenant (Business Central's app)."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.registry import get_definition
from connections.verification import build_target, verify
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
