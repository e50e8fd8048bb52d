"""OAuth 2.0 client credentials in a tenant (``schemes/oauth2_client_credentials.py``) against
a simulator of Microsoft Entra for Business Central's app: the live check signs in, and the
proxy keeps the token it bought; against Extensiv's token endpoint, which takes JSON; against
CartonCloud's, which wants a version header; and against a Shopify store, whose API takes the
token in its own header."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.test import Client

from catalog.registry import get_definition
from catalog.schema import MethodSpec
from connections.schemes import SCHEMES
from connections.verification.run import build_target, verify
from tests.factories import connected, live_check
from tests.fakes.base import Reply
from tests.fakes.vendors_options import FakeCartonCloud, FakeShopifyStore

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


# --- token_headers and token_header (tests/fakes/vendors_options.py) -------------------------


@pytest.fixture(scope="module")
def option_fakes():
    fakes = {"cartoncloud": FakeCartonCloud().start(), "shopify": FakeShopifyStore().start()}
    yield fakes
    for fake in fakes.values():
        fake.stop()


def _reachable(fake, settings):
    fake.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = ",".join(f"{host}={fake.url}" for host in fake.hosts)
    return fake


@pytest.fixture
def cartoncloud(option_fakes, settings) -> FakeCartonCloud:
    fake = _reachable(option_fakes["cartoncloud"], settings)
    fake.clients["cc-client"] = "cc-secret"
    return fake


@pytest.fixture
def shopify_store(option_fakes, settings) -> FakeShopifyStore:
    fake = _reachable(option_fakes["shopify"], settings)
    fake.apps["dd-app"] = "dd-secret"
    return fake


@pytest.mark.parametrize(("secret", "code"), [("cc-secret", None), ("wrong", "invalid_client")])
def test_cartoncloud_asks_for_its_token_naming_the_api_version(cartoncloud, secret, code):
    config = {"tenant_id": cartoncloud.tenant, "client_id": "cc-client"}
    outcome = live_check("cartoncloud", "api_client", config, {"client_secret": secret})
    assert (outcome.code if outcome else None) == code
    token_call = cartoncloud.requests[0]
    assert token_call.path == "/uaa/oauth/token"
    assert token_call.headers["accept-version"] == "1"
    if code is None:
        check = cartoncloud.requests[-1]
        assert check.path.endswith("/warehouse-products")
        assert check.headers["authorization"].startswith("Bearer ")


def test_cartoncloud_refuses_a_token_request_without_the_version(cartoncloud):
    # What the vendor checks, and what the option is for: without Accept-Version no token.
    definition = get_definition("cartoncloud")
    method = definition.method("api_client")
    bare = replace(
        method, options={k: v for k, v in method.options.items() if k != "token_headers"}
    )
    config = {"tenant_id": cartoncloud.tenant, "client_id": "cc-client"}
    target = build_target(definition, bare, config)
    outcome = verify(target, {"client_secret": "cc-secret"}, {}.update)
    assert outcome is not None and outcome.code == "unexpected_response"
    assert not cartoncloud.tokens


def test_a_shopify_dev_dashboard_app_sends_its_token_in_the_shopify_header(acme, shopify_store):
    config = {"shop": "acme", "client_id": "dd-app"}
    assert (
        live_check("shopify", "dev_dashboard_app", config, {"client_secret": "dd-secret"}) is None
    )
    check = shopify_store.requests[-1]
    assert check.path == "/admin/api/2026-01/shop.json" and check.host == "acme.myshopify.com"
    assert check.headers["x-shopify-access-token"].startswith("shpat_")
    assert "authorization" not in check.headers
    _, token = connected(
        acme.partner,
        system="shopify",
        method="dev_dashboard_app",
        config=config,
        credentials={"client_secret": "dd-secret"},
    )
    partner = Client(headers={"Authorization": f"Bearer {token}"})
    assert partner.get("/api/v1/proxy/admin/api/2026-01/shop.json").status_code == 200


def test_a_refused_shopify_app_says_the_client_was_refused(shopify_store):
    config = {"shop": "acme", "client_id": "dd-app"}
    outcome = live_check("shopify", "dev_dashboard_app", config, {"client_secret": "nope"})
    assert outcome is not None and outcome.code == "invalid_client"
    assert "client ID and secret" in outcome.advice


def _method(**options) -> MethodSpec:
    return MethodSpec(
        id="m",
        scheme="oauth2_client_credentials",
        label="m",
        options={"token_url": "https://x.example/token", **options},
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"token_header": "X Bad: header"}, "option 'token_header' must be a header name"),
        ({"token_headers": {"Bad Name": "1"}}, "token_headers: 'Bad Name' is not a header name"),
        ({"token_headers": "Accept-Version: 1"}, "option 'token_headers' must be a dict"),
    ],
)
def test_token_header_options_that_cannot_work_are_refused(options, problem):
    assert problem in SCHEMES["oauth2_client_credentials"].check_method(_method(**options))
