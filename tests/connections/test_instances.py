"""Systems at the customer's own address (instance URL): Odoo, ERPNext, SAP Business One —
each against a simulator of its API, through the flow and the live check."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.registry import get_definition
from connections.models import Connection, ValidationAttempt
from connections.verification.run import build_target, verify
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db


def check(slug: str, config: dict, credentials: dict):
    definition = get_definition(slug)
    steps: dict[str, str] = {}
    target = build_target(definition, definition.recommended_method, config)
    return verify(target, credentials, steps.update), steps


ODOO = {"instance": "https://odoo.acme.test", "database": "acme"}
ERPNEXT = {"site": "https://erp.acme.test"}
SAP = {"service_layer": "https://sap.acme.test", "company_db": "SBOACME", "username": "api"}


@pytest.fixture
def instances(fake_systems):
    fake_systems.odoo.keys["key-1"] = ("acme", True)
    fake_systems.odoo.keys["key-ro"] = ("acme", False)
    fake_systems.erpnext.users["k1"] = ("s1", "integration@acme.test", True)
    fake_systems.erpnext.users["k2"] = ("s2", "intern@acme.test", False)
    fake_systems.sap_b1.users[("SBOACME", "api")] = ("pw", True)
    fake_systems.sap_b1.users[("SBOACME", "viewer")] = ("pw", False)
    return fake_systems


@pytest.mark.parametrize(
    ("slug", "config", "credentials", "code"),
    [
        ("odoo", ODOO, {"api_key": "key-1"}, None),
        ("odoo", ODOO, {"api_key": "key-x"}, "invalid_credentials"),
        ("odoo", {**ODOO, "database": "other"}, {"api_key": "key-1"}, "invalid_credentials"),
        ("odoo", ODOO, {"api_key": "key-ro"}, "forbidden"),
        ("erpnext", {**ERPNEXT, "api_key": "k1"}, {"api_secret": "s1"}, None),
        ("erpnext", {**ERPNEXT, "api_key": "k1"}, {"api_secret": "nope"}, "invalid_credentials"),
        ("erpnext", {**ERPNEXT, "api_key": "k2"}, {"api_secret": "s2"}, "forbidden"),
        ("sap-business-one", SAP, {"password": "pw"}, None),
        ("sap-business-one", SAP, {"password": "wrong"}, "invalid_credentials"),
        ("sap-business-one", {**SAP, "username": "viewer"}, {"password": "pw"}, "forbidden"),
    ],
)
def test_live_checks_against_each_simulator(instances, slug, config, credentials, code):
    outcome, steps = check(slug, config, credentials)
    assert (outcome.code if outcome else None) == code, outcome
    if code == "forbidden":
        assert steps["permissions"] == "failed" and "read" in outcome.message


def test_sap_sends_back_both_session_cookies(instances):
    check("sap-business-one", SAP, {"password": "pw"})
    items = instances.sap_b1.requests[-1]
    assert items.path == "/b1s/v1/Items" and "B1SESSION=" in items.headers["cookie"]
    assert "ROUTEID=.node1" in items.headers["cookie"]


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


def test_the_proxy_reuses_a_sap_session_and_logs_in_again_when_it_ends(acme, instances):
    _, token = connected(
        acme.partner,
        system="sap-business-one",
        config={k: SAP[k] for k in ("service_layer", "company_db", "username")},
        credentials={"password": "pw"},
    )
    api = Client(headers={"Authorization": f"Bearer {token}"})
    logins = lambda: sum(r.path == "/b1s/v1/Login" for r in instances.sap_b1.requests)  # noqa: E731
    assert api.get("/api/v1/proxy/Items?$top=1").status_code == 200
    assert api.get("/api/v1/proxy/Items?$top=1").status_code == 200
    assert logins() == 1
    instances.sap_b1.sessions.clear()  # the session timed out
    assert api.get("/api/v1/proxy/Items?$top=1").status_code == 200
    assert logins() == 2
