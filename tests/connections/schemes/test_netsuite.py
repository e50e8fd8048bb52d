"""NetSuite M2M and TBA against the local simulator: each success and each failure."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

import pytest
from django.test import Client

from catalog.registry import get_definition
from connections.outbound import client as outbound
from connections.schemes import netsuite
from connections.security.certificates import check_upload, generate
from connections.verification.run import build_target, verify
from tests.factories import connected
from tests.fakes.netsuite import M2M_LOGIN, TBA_LOGIN, TOKEN_PATH
from tests.keys import RSA_PSS, openssl_pair

ACCOUNT = "1234567_SB1"
ALL_DONE = {"reach": "done", "authenticate": "done", "test_call": "done", "permissions": "done"}
AUDIT_TRAIL = "Setup > Users/Roles > User Management > View Login Audit Trail"


def run(method_id: str, values: dict[str, str], account: str = ACCOUNT):
    definition = get_definition("netsuite")
    reports: dict[str, str] = {}
    target = build_target(definition, definition.method(method_id), {"account": account})
    outcome = verify(target, values, reports.update)
    return outcome, reports


@pytest.fixture
def account(fake_systems):
    return fake_systems.netsuite.add_account(ACCOUNT)


@pytest.fixture
def m2m(account):
    return m2m_integration(account)


def m2m_integration(account):
    """An integration with a certificate mapping, as an administrator would set it up."""
    pair = generate("ec")
    integration = account.add_integration(m2m=True)
    mapping = account.map_certificate(integration, pair.certificate_pem)
    values = {
        "client_id": integration.client_id,
        "certificate_id": mapping.certificate_id,
        "private_key": pair.private_key_pem,
    }
    return values, mapping


def assertion_seen(fake) -> tuple[dict, dict]:
    request = next(r for r in reversed(fake.requests) if r.path == TOKEN_PATH)
    jwt = dict(parse_qsl(request.body.decode()))["client_assertion"]

    def part(text: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    head, body, _ = jwt.split(".")
    return part(head), part(body)


# --- OAuth 2.0 M2M ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "alg"), [("ec", "ES256"), ("rsa", "PS256")])
def test_m2m_round_trip_with_a_generated_key(account, fake_systems, kind, alg):
    pair = generate(kind)
    integration = account.add_integration()
    mapping = account.map_certificate(integration, pair.certificate_pem)
    outcome, steps = run(
        "m2m",
        {
            "client_id": integration.client_id,
            "certificate_id": mapping.certificate_id,
            "private_key": pair.private_key_pem,
        },
    )
    assert outcome is None and steps == ALL_DONE
    header, claims = assertion_seen(fake_systems.netsuite)
    assert header == {"typ": "JWT", "alg": alg, "kid": mapping.certificate_id}
    assert claims["iss"] == integration.client_id
    assert claims["aud"] == f"https://1234567-sb1.suitetalk.api.netsuite.com{TOKEN_PATH}"
    assert claims["scope"] == "rest_webservices"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    suiteql = fake_systems.netsuite.requests[-1]
    assert suiteql.path == "/services/rest/query/v1/suiteql"
    assert suiteql.query == {"limit": ["1"]}
    assert suiteql.headers["prefer"] == "transient"
    assert suiteql.json() == {"q": "SELECT id FROM employee"}


def test_m2m_round_trip_with_an_openssl_made_key(account, tmp_path):
    public, private = openssl_pair(tmp_path, RSA_PSS)
    pair = check_upload(public.read_bytes(), private.read_bytes())
    integration = account.add_integration()
    mapping = account.map_certificate(integration, public.read_text())
    outcome, _ = run(
        "m2m",
        {
            "client_id": integration.client_id,
            "certificate_id": mapping.certificate_id,
            "private_key": pair.private_key_pem,
        },
    )
    assert outcome is None


def m2m_failure(values: dict, fake) -> tuple:
    outcome, steps = run("m2m", values)
    assert outcome is not None
    return outcome, steps, fake.netsuite.login_audit[-1] if fake.netsuite.login_audit else ""


def test_m2m_wrong_client_id(m2m, fake_systems):
    values, _ = m2m
    outcome, steps, audit = m2m_failure({**values, "client_id": "f" * 64}, fake_systems)
    assert (outcome.code, audit) == ("invalid_client", "InvalidIntegration")
    assert steps["reach"] == "done" and steps["authenticate"] == "failed"
    assert "Client ID" in outcome.advice and AUDIT_TRAIL in outcome.advice


def test_m2m_wrong_certificate_id(m2m, fake_systems):
    values, _ = m2m
    outcome, _, audit = m2m_failure({**values, "certificate_id": "not-the-right-id"}, fake_systems)
    assert (outcome.code, audit) == ("invalid_client", "UnknownCertificateId")
    assert "Certificate ID" in outcome.advice


def test_m2m_key_that_does_not_match_the_mapped_certificate(m2m, fake_systems):
    values, _ = m2m
    other = generate("ec").private_key_pem
    outcome, _, audit = m2m_failure({**values, "private_key": other}, fake_systems)
    assert (outcome.code, audit) == ("invalid_client", "InvalidSignature")


def test_m2m_disabled_role_or_missing_login_permission(m2m, fake_systems):
    values, mapping = m2m
    mapping.role.permissions.discard(M2M_LOGIN)
    outcome, _, audit = m2m_failure(values, fake_systems)
    assert (outcome.code, audit) == ("invalid_grant", "EntityOrRoleDisabled")
    assert "Log in using OAuth 2.0 Access Tokens" in outcome.advice


def test_m2m_scope_not_on_the_integration(m2m, fake_systems, account):
    values, mapping = m2m
    account.integrations[mapping.client_id].scopes = {"restlets"}
    outcome, _, audit = m2m_failure(values, fake_systems)
    assert (outcome.code, audit) == ("invalid_grant", "ScopeMismatched")


def test_m2m_clock_skew_is_named(m2m, fake_systems, monkeypatch):
    values, _ = m2m
    real_now = netsuite._now
    monkeypatch.setattr(netsuite, "_now", lambda: real_now() - 3600)  # our clock an hour slow
    outcome, steps, audit = m2m_failure(values, fake_systems)
    assert outcome.code == "clock_skew"
    assert audit == "AssertionExpiredOrNotYetValid"
    assert steps["authenticate"] == "failed"


def test_m2m_role_without_rest_web_services_is_a_refused_login(m2m, fake_systems):
    values, mapping = m2m
    mapping.role.permissions.discard("REST Web Services")
    outcome, steps, audit = m2m_failure(values, fake_systems)
    assert outcome.code == "invalid_credentials"
    assert audit == "InsufficientPermission:REST Web Services"
    assert "Invalid login attempt" in outcome.detail
    assert "REST Web Services" in outcome.advice and AUDIT_TRAIL in outcome.advice
    assert steps["authenticate"] == "failed"


def test_m2m_missing_permission_is_named(m2m, fake_systems):
    values, mapping = m2m
    mapping.role.permissions.discard("SuiteAnalytics Workbook")
    outcome, steps, _ = m2m_failure(values, fake_systems)
    assert outcome.code == "forbidden"
    assert "missing a permission: SuiteAnalytics Workbook" in outcome.message
    assert steps["permissions"] == "failed"


def test_m2m_record_the_role_may_not_view_is_a_permission_problem(m2m, fake_systems):
    values, mapping = m2m
    mapping.role.permissions.discard("Lists > Employees")
    outcome, _, _ = m2m_failure(values, fake_systems)
    assert outcome.code == "forbidden"
    assert "Lists > Employees (View)" in outcome.message


def test_wrong_account_id_means_the_host_is_not_found(m2m, fake_systems, settings):
    settings.ONRAMP_OUTBOUND_HOST_MAP = ""  # no such account: its host does not resolve
    values, _ = m2m
    outcome, steps = run("m2m", values, account="7654321")
    assert outcome.code == "host_not_found"
    assert "7654321.suitetalk.api.netsuite.com" in outcome.message
    assert "Account ID" in outcome.advice and steps == {"reach": "failed"}


def test_every_validation_mints_a_fresh_token(m2m, fake_systems, account):
    values, _ = m2m
    assert run("m2m", values)[0] is None
    assert run("m2m", values)[0] is None
    assert len(account.issued) == 2  # no refresh token in M2M: a new assertion each time


# --- Token-Based Authentication -------------------------------------------------------------


@pytest.fixture
def tba(account):
    integration = account.add_integration(m2m=False, tba=True)
    token = account.add_token(integration)
    values = {
        "account": ACCOUNT,
        "consumer_key": integration.client_id,
        "consumer_secret": integration.consumer_secret,
        "token_id": token.token_id,
        "token_secret": token.token_secret,
    }
    return values, token


def test_tba_round_trip(tba, fake_systems):
    values, _ = tba
    outcome, steps = run("tba", values)
    assert outcome is None and steps == ALL_DONE
    header = fake_systems.netsuite.requests[-1].headers["authorization"]
    assert header.startswith('OAuth realm="1234567_SB1"')
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    assert "oauth_body_hash" not in header


def test_tba_wrong_secret(tba, fake_systems):
    values, _ = tba
    outcome, steps = run("tba", {**values, "token_secret": "0" * 64})
    assert outcome.code == "invalid_credentials"
    assert fake_systems.netsuite.login_audit[-1] == "InvalidSignature"
    assert "token ID and secret" in outcome.advice and AUDIT_TRAIL in outcome.advice
    assert steps["authenticate"] == "failed"


def test_tba_token_without_login_permission(tba, fake_systems):
    values, token = tba
    token.role.permissions.discard(TBA_LOGIN)
    outcome, _ = run("tba", values)
    assert outcome.code == "invalid_credentials"


def test_tba_clock_skew_is_named(tba, monkeypatch):
    values, _ = tba
    real_now = netsuite._now
    monkeypatch.setattr(netsuite, "_now", lambda: real_now() + 900)
    outcome, _ = run("tba", values)
    assert outcome.code == "clock_skew"
    assert "disagree about the current time" in outcome.message


def test_the_simulator_refuses_a_replayed_nonce(tba, fake_systems):
    values, _ = tba
    assert run("tba", values)[0] is None
    replay = fake_systems.netsuite.requests[-1]
    response = outbound.request(
        "POST",
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=1",
        headers={"Authorization": replay.headers["authorization"], "Prefer": "transient"},
        json={"q": "SELECT id FROM employee"},
    )
    assert response.status == 401
    assert fake_systems.netsuite.login_audit[-1] == "InvalidNonce"
    assert run("tba", values)[0] is None  # our client uses a fresh nonce every time


def test_tba_realm_must_be_the_uppercase_account_id(tba, fake_systems):
    from connections.schemes.netsuite_tba import TokenSigner

    values, _ = tba
    url = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=1"
    signer = TokenSigner(
        "1234567-sb1",
        values["consumer_key"],
        values["consumer_secret"],
        values["token_id"],
        values["token_secret"],
    )
    response = outbound.request(
        "POST",
        url,
        headers={**signer.headers_for("POST", url), "Prefer": "transient"},
        json={"q": "x"},
    )
    assert response.status == 401
    assert fake_systems.netsuite.login_audit[-1] == "InvalidAccountOrRealm"


# --- through the API: a stored connection ---------------------------------------------------


@pytest.fixture
def stored(acme, m2m):
    """An active NetSuite M2M connection, as the flow would have stored it."""
    values, _ = m2m
    config = {
        "account": ACCOUNT,
        "client_id": values["client_id"],
        "certificate_id": values["certificate_id"],
    }
    return connected(
        acme.partner,
        system="netsuite",
        config=config,
        credentials={"private_key": values["private_key"]},
    )


@pytest.fixture
def revalidate(api, django_capture_on_commit_callbacks, rate_clock):
    def call(connection) -> dict:
        rate_clock(61)  # one revalidation a minute per connection
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/api/v1/connections/{connection.id}/revalidate")
        return api.get(f"/api/v1/connections/{connection.id}").json()

    return call


def test_revalidating_a_stored_m2m_connection_signs_in_again(stored, account, revalidate):
    connection, _ = stored
    assert revalidate(connection)["status"] == "active"
    assert revalidate(connection)["status"] == "active"
    assert len(account.issued) == 2


def test_a_disabled_role_invalidates_the_connection(stored, m2m, revalidate):
    connection, token = stored
    m2m[1].role.active = False
    body = revalidate(connection)
    assert body["status"] == "invalid" and body["last_error"]["code"] == "invalid_grant"
    assert "invalid_grant" in body["last_error"]["message"]
    access = Client(headers={"Authorization": f"Bearer {token}"})
    assert access.get("/api/v1/connection").status_code == 401
