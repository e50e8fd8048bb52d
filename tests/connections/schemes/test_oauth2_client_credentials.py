"""OAuth 2.0 client credentials in a tenant (``schemes/oauth2_client_credentials.py``) against
a simulator of Microsoft Entra for Business Central's app: the live check signs in, and the
proxy keeps the token it bought; and against Extensiv's token endpoint, which takes JSON."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.schema import MethodSpec
from connections.schemes import SCHEMES
from tests.factories import connected, live_check
from tests.fakes.base import Reply

pytestmark = pytest.mark.django_db


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
    outcome = live_check(
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
def extensiv(fake_systems):
    fake = fake_systems.extensiv
    fake.clients["3pl-client"] = ("3pl-secret", "onramp.integration")
    return fake


EXTENSIV = {"client_id": "3pl-client", "user_login": "onramp.integration"}


@pytest.mark.parametrize(
    ("config", "secret", "code"),
    [
        (EXTENSIV, "3pl-secret", None),
        (EXTENSIV | {"user_login": "someone.else"}, "3pl-secret", "invalid_grant"),
        (EXTENSIV, "wrong", "invalid_client"),
    ],
)
def test_extensiv_gets_its_token_with_a_json_request_naming_the_user(
    extensiv, config, secret, code
):
    outcome = live_check(
        "extensiv-3pl-warehouse-manager", "rest_credential", config, {"client_secret": secret}
    )
    assert (outcome.code if outcome else None) == code
    token_call = extensiv.requests[0]
    assert token_call.headers["content-type"].startswith("application/json")
    assert token_call.json() == {
        "grant_type": "client_credentials",
        "user_login": config["user_login"],
    }
    if code is None:
        assert extensiv.requests[-1].path == "/customers"


def test_a_token_format_other_than_form_or_json_is_refused():
    method = MethodSpec(
        id="m",
        scheme="oauth2_client_credentials",
        label="m",
        options={"token_url": "https://x.example/token", "token_format": "xml"},
    )
    problems = SCHEMES["oauth2_client_credentials"].check_method(method)
    assert "option 'token_format' must be one of ['form', 'json']" in problems
