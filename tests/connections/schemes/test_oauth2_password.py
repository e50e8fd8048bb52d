"""The OAuth 2.0 password grant (``schemes/oauth2_password.py``) against simulators of
Acumatica's and Manhattan Active's token endpoints: how each sends its client, where its
token endpoint is, which user signed in."""

from __future__ import annotations

import pytest

from catalog.normalizers import normalize
from catalog.registry import get_definition
from tests.factories import live_check
from tests.fakes.base import Reply

pytestmark = pytest.mark.django_db


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
    outcome = live_check(
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


@pytest.mark.parametrize(
    "pasted",
    ["https://acme.sce.manh.com/udc/wm/", "acme.sce.manh.com", "https://acme-auth.sce.manh.com"],
)
def test_manhattan_signs_in_on_the_platform_the_customer_uses(password_grants, pasted):
    definition = get_definition("manhattan-active-wm")
    environment = normalize(pasted, definition.fields[0])
    config = {
        "environment": environment,
        "client_id": "onramp-client",
        "username": "integration@acme.com",
    }
    credentials = {"client_secret": "manh-secret", "password": "right-password"}
    assert live_check("manhattan-active-wm", "password_grant", config, credentials) is None
    token_call, last = password_grants.requests[0], password_grants.requests[-1]
    assert token_call.host == "acme-auth.sce.manh.com"  # a WM tenant's own auth server
    assert last.host == "acme.sce.manh.com"


def test_manhattan_sends_its_client_as_basic_and_reads_the_signed_in_user(password_grants):
    config = {
        "environment": "acme.omni.manh.com",
        "client_id": "onramp-client",
        "username": "integration@acme.com",
    }
    credentials = {"client_secret": "manh-secret", "password": "right-password"}
    assert live_check("manhattan-active-wm", "password_grant", config, credentials) is None
    assert password_grants.auth_methods_seen == ["client_secret_basic"]
    assert password_grants.requests[0].host == "acme-auth.omni.manh.com"
    last = password_grants.requests[-1]
    assert last.path.endswith("/user/allDetails/userId/integration@acme.com")
    assert last.headers["authorization"].startswith("Bearer ")
    wrong = live_check(
        "manhattan-active-wm", "password_grant", config, credentials | {"password": "x"}
    )
    assert wrong is not None and wrong.code == "invalid_credentials"
