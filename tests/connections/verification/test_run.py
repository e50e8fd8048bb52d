"""The live check (``verification/run.py``): one round trip per auth scheme against a local
simulator, each failure's message (a remote's own words escaped and cut short), an answer
that is not the API, and systems at the customer's own address (Odoo, ERPNext, SAP Business
One)."""

import pytest
from django.test import Client

from catalog.registry import get_definition
from connections.models import Connection, ValidationAttempt
from connections.verification.run import build_target, verify
from tests.factories import link_session
from tests.fakes.base import Trick
from tests.fakes.instances import ERPNEXT, ODOO, SAP
from tests.fakes.mintsoft import KEY_LIFETIME, MintsoftUser


def run(slug, config, credentials):
    definition = get_definition(slug)
    method = definition.recommended_method
    reports: dict[str, str] = {}
    outcome = verify(build_target(definition, method, config), credentials, reports.update)
    return outcome, reports


ALL_DONE = {"reach": "done", "authenticate": "done", "test_call": "done", "permissions": "done"}


# --- api_key: Infoplus -------------------------------------------------------------------


def test_infoplus_api_key_round_trip(fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    outcome, steps = run("infoplus", {"site": "acme"}, {"api_key": "key-1"})
    assert outcome is None
    assert steps == ALL_DONE
    seen = fake_systems.infoplus.requests[-1]
    assert seen.host == "acme.infopluswms.com"
    assert seen.headers["api-key"] == "key-1"
    assert seen.path == "/infoplus-wms/api/v3.0/lineOfBusiness/search"


def test_infoplus_wrong_key_fails_sign_in_with_the_systems_own_advice(fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    outcome, steps = run("infoplus", {"site": "acme"}, {"api_key": "nope"})
    assert outcome.code == "invalid_credentials"
    assert steps["reach"] == "done" and steps["authenticate"] == "failed"
    assert "acme.infopluswms.com rejected these credentials" in outcome.message
    assert "copied the whole API key" in outcome.advice
    assert outcome.detail == "Invalid API Key"


def test_infoplus_missing_permission_is_named(fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-ro"}
    fake_systems.infoplus.read_only_keys.add("key-ro")
    outcome, steps = run("infoplus", {"site": "acme"}, {"api_key": "key-ro"})
    assert outcome.code == "forbidden"
    assert steps["permissions"] == "failed"
    assert "Line of Business: read" in outcome.message


def test_infoplus_unknown_site_says_the_address_is_wrong(fake_systems):
    outcome, steps = run("infoplus", {"site": "nosuch"}, {"api_key": "k"})
    assert outcome.code == "not_found"
    assert steps["test_call"] == "failed"


# --- password_exchange: Mintsoft ---------------------------------------------------------


def test_mintsoft_login_then_api_key_round_trip(fake_systems):
    fake_systems.mintsoft.users["ops"] = MintsoftUser("s3cret")
    outcome, steps = run("mintsoft", {"username": "ops"}, {"password": "s3cret"})
    assert outcome is None and steps == ALL_DONE
    login, warehouses = fake_systems.mintsoft.requests[-2:]
    assert login.json() == {"Username": "ops", "Password": "s3cret"}
    assert warehouses.headers["ms-apikey"] in fake_systems.mintsoft.keys
    assert "APIKey" not in warehouses.query


def test_mintsoft_signs_in_again_after_its_keys_expire(fake_systems):
    fake_systems.mintsoft.users["ops"] = MintsoftUser("s3cret")
    assert run("mintsoft", {"username": "ops"}, {"password": "s3cret"})[0] is None
    later = fake_systems.mintsoft.now() + KEY_LIFETIME + 60
    fake_systems.mintsoft.now = lambda: later
    assert run("mintsoft", {"username": "ops"}, {"password": "s3cret"})[0] is None
    assert len([r for r in fake_systems.mintsoft.requests if r.path == "/api/Auth"]) == 2


def test_mintsoft_wrong_password(fake_systems):
    fake_systems.mintsoft.users["ops"] = MintsoftUser("s3cret")
    outcome, steps = run("mintsoft", {"username": "ops"}, {"password": "wrong"})
    assert outcome.code == "invalid_credentials"
    assert steps["reach"] == "done" and steps["authenticate"] == "failed"
    assert outcome.detail == "Invalid username or password"


def test_mintsoft_client_user_is_told_to_use_a_warehouse_user(fake_systems):
    fake_systems.mintsoft.users["shop"] = MintsoftUser("pw", warehouse=False)
    outcome, _ = run("mintsoft", {"username": "shop"}, {"password": "pw"})
    assert outcome.code == "forbidden"
    assert "Use a warehouse user" in outcome.advice


# --- basic: the Sandbox ERP, served by the app itself --------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("company", "username", "password", "code", "failed_step"),
    [
        ("demo", "demo", "sandbox-demo", None, None),
        ("demo", "demo", "wrong", "invalid_credentials", "authenticate"),
        ("demo", "readonly", "sandbox-demo", "forbidden", "permissions"),
        ("closed", "demo", "sandbox-demo", "not_found", "test_call"),
    ],
)
def test_sandbox_basic_auth_round_trip(
    onramp_server, company, username, password, code, failed_step
):
    outcome, steps = run(
        "sandbox-erp", {"company": company, "username": username}, {"password": password}
    )
    if code is None:
        assert outcome is None and steps == ALL_DONE
    else:
        assert outcome.code == code
        assert steps[failed_step] == "failed"


# --- network failures ----------------------------------------------------------------------


def test_unknown_host_fails_at_reach(settings):
    settings.ONRAMP_OUTBOUND_HOST_MAP = ""
    outcome, steps = run("sandbox-erp", {"company": "demo", "username": "u"}, {"password": "p"})
    assert outcome.code == "host_not_found"
    assert steps == {"reach": "failed"}
    assert "demo.sandbox-erp.test" in outcome.message
    assert "typos" in outcome.advice


def test_refused_connection_fails_at_reach(settings):
    settings.ONRAMP_OUTBOUND_HOST_MAP = "*.infopluswms.com=http://127.0.0.1:9"
    outcome, steps = run("infoplus", {"site": "acme"}, {"api_key": "k"})
    assert outcome.code == "connection_failed"
    assert steps["reach"] == "failed"


# --- an answer that is not the API -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_web_page_answering_200_is_not_a_working_connection(
    acme, fake_systems, django_capture_on_commit_callbacks
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    fake_systems.infoplus.tricks.append(Trick("html"))
    _, token = link_session(acme.partner)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            f"/connect/{token}/s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-1"}
        )
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "failed" and attempt.error_code == "not_the_api"
    assert "answers, but not like the Infoplus API" in attempt.error_message
    assert not Connection.objects.exists()


def test_remote_error_text_is_escaped_and_truncated(end_user, fake_systems):
    from tests.fakes.base import Reply

    hostile = "Denied: <script>alert('x')</script>" + "y" * 500
    original = fake_systems.infoplus.handle
    fake_systems.infoplus.handle = lambda request: Reply(401, {"message": hostile})
    try:
        pages = end_user().walk(
            "s/infoplus/api_key/details/",
            {"site": "acme", "api_key": "k"},
        )
    finally:
        fake_systems.infoplus.handle = original
    failure = next(page for page in pages if "rejected these credentials" in page)
    assert "<script>alert" not in failure
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in failure
    assert "y" * 200 not in failure


# --- systems at the customer's own address: Odoo, ERPNext, SAP Business One ---------


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
    outcome, steps = run(slug, config, credentials)
    assert (outcome.code if outcome else None) == code, outcome
    if code == "forbidden":
        assert steps["permissions"] == "failed" and "read" in outcome.message


def test_sap_sends_back_both_session_cookies(instances):
    run("sap-business-one", SAP, {"password": "pw"})
    items = instances.sap_b1.requests[-1]
    assert items.path == "/b1s/v1/Items" and "B1SESSION=" in items.headers["cookie"]
    assert "ROUTEID=.node1" in items.headers["cookie"]
