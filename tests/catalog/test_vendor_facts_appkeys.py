"""The systems whose calls carry the integrator's app key (``app_headers``), checked live
against their simulators with the headers a partner's registered app fills in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.registry import get_definition
from connections.schemes.base import app_headers
from connections.verification.failures import Outcome
from connections.verification.run import build_target, verify
from tests.fakes.base import FakeSystem
from tests.fakes.vendors_appkeys import FakeEconomic, FakePriority
from tests.fakes.vendors_cat_cmms import FakeServiceTitan

pytestmark = pytest.mark.django_db

FAKES = {"economic": FakeEconomic, "servicetitan": FakeServiceTitan, "priority": FakePriority}
PRIORITY = {"server": "https://priority.acme-erp.com", "ini_file": "tabula.ini", "company": "acme"}


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, FakeSystem]]:
    fakes = {name: fake().start() for name, fake in FAKES.items()}
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture
def vendors(running: dict[str, FakeSystem], settings: Any) -> dict[str, Any]:
    for fake in running.values():
        fake.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = ",".join(
        f"{host}={fake.url}" for fake in running.values() for host in fake.hosts
    )
    return running


def check_with_app(
    slug: str, method_id: str, config: dict[str, str], credentials: dict[str, str], app: tuple
) -> Outcome | None:
    """A live check as a partner's connection runs it: the method's ``app_headers`` filled
    from the partner's app (``(app_id, app_secret)``)."""
    definition = get_definition(slug)
    method = definition.method(method_id)
    target = build_target(definition, method, config, app_headers(method, *app))
    return verify(target, credentials, {}.update)


def test_economic_sends_the_partners_app_token_beside_the_customers_grant(vendors):
    vendors["economic"].grants["grant-1"] = "app-secret-1"
    creds = {"agreement_grant_token": "grant-1"}
    assert (
        check_with_app("visma-e-conomic", "grant_token", {}, creds, ("pub", "app-secret-1"))
        is None
    )
    sent = vendors["economic"].requests[-1].headers
    assert (
        sent["x-appsecrettoken"] == "app-secret-1" and sent["x-agreementgranttoken"] == "grant-1"
    )


def test_economic_refuses_a_grant_made_to_another_app(vendors):
    vendors["economic"].grants["grant-1"] = "someone-elses-app"
    creds = {"agreement_grant_token": "grant-1"}
    outcome = check_with_app("visma-e-conomic", "grant_token", {}, creds, ("pub", "app-secret-1"))
    assert outcome is not None and outcome.code == "invalid_credentials"


def test_economic_asks_the_customer_only_for_the_grant_token():
    method = get_definition("visma-e-conomic").method("grant_token")
    assert [spec.name for spec in method.fields] == ["agreement_grant_token"]


def test_servicetitan_sends_the_partners_app_key_beside_the_token(vendors):
    vendors["servicetitan"].clients["cid"] = "csecret"
    config = {"tenant_id": "123456789"}
    creds = {"client_id": "cid", "client_secret": "csecret"}
    app = ("onramp-app", "ak1.onramp")
    assert check_with_app("servicetitan", "client_credentials", config, creds, app) is None
    assert vendors["servicetitan"].requests[-1].headers["st-app-key"] == "ak1.onramp"
    token_request = vendors["servicetitan"].requests[0]
    assert "st-app-key" not in token_request.headers  # app headers never go on the sign-in


def test_servicetitan_refuses_another_apps_key(vendors):
    vendors["servicetitan"].clients["cid"] = "csecret"
    config = {"tenant_id": "123456789"}
    creds = {"client_id": "cid", "client_secret": "csecret"}
    app = ("other", "ak1.someone-else")
    assert check_with_app("servicetitan", "client_credentials", config, creds, app) is not None


def test_servicetitan_no_longer_asks_the_customer_for_the_app_key():
    definition = get_definition("servicetitan")
    names = {
        spec.name for spec in definition.fields + definition.method("client_credentials").fields
    }
    assert names == {"tenant_id", "client_id", "client_secret"}


def test_priority_sends_the_application_licence_under_its_own_method(vendors):
    vendors["priority"].users["PAT-1"] = "PAT"
    vendors["priority"].licence = ("APP001", "15nXqSDXnNeaIEFQ")
    creds = {"username": "PAT-1", "password": "PAT"}
    app = ("APP001", "15nXqSDXnNeaIEFQ")
    assert check_with_app("priority-software", "basic_app_licence", PRIORITY, creds, app) is None
    sent = vendors["priority"].requests[-1].headers
    assert (sent["x-app-id"], sent["x-app-key"]) == app


def test_priority_without_the_licence_headers_is_refused_on_a_licensed_company(vendors):
    vendors["priority"].users["PAT-1"] = "PAT"
    vendors["priority"].licence = ("APP001", "15nXqSDXnNeaIEFQ")
    creds = {"username": "PAT-1", "password": "PAT"}
    outcome = check_with_app("priority-software", "basic", PRIORITY, creds, ("", ""))
    assert outcome is not None and outcome.code == "forbidden"
