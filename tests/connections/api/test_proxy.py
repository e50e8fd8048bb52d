"""The passthrough proxy: a partner calls the customer's system with only the connection's
access token; Onramp applies the auth each system checks (its simulator verifies it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from catalog import sandbox, sandbox_oauth
from connections.models import Connection, ConnectionToken, ValidationAttempt
from connections.security.inflight import Cap, in_flight
from connections.services.connections import connection_record_check, connection_revoke
from connections.services.health import health_checks_start
from connections.services.partners import partner_create
from connections.verification.failures import describe
from tests.conftest import ROOT
from tests.connections.schemes.test_netsuite import ACCOUNT, m2m_integration
from tests.factories import connected
from tests.fakes.base import HTML_PAGE, Trick
from tests.fakes.instances import SAP
from tests.fakes.mintsoft import MintsoftUser

pytestmark = pytest.mark.django_db
INFOPLUS = "infoplus-wms/api/v3.0/lineOfBusiness/search"


def proxy(token: str, path: str, method: str = "get", **kwargs):
    client = Client(headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})})
    return getattr(client, method)(f"/api/v1/proxy/{path}", **kwargs)


@pytest.fixture
def infoplus(acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    return connected(acme.partner)


# --- each scheme's auth, checked by its simulator -------------------------------------------


def test_sandbox_basic_auth(acme, onramp_server):
    _, token = connected(
        acme.partner,
        system="sandbox-erp",
        config={"company": "demo", "username": "demo"},
        credentials={"password": "sandbox-demo"},
    )
    response = proxy(token, "v1/orders?limit=1")
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "SO-1001"


def test_the_readme_documents_each_sandbox_path_and_each_answers_through_the_proxy(
    acme, onramp_server
):
    """README, *The Sandbox ERP*: every API path the Sandbox serves, as a proxied call that
    works, and its practice OAuth client."""
    readme = (ROOT / "README.md").read_text()
    _, token = connected(
        acme.partner,
        system="sandbox-erp",
        config={"company": "demo", "username": "demo"},
        credentials={"password": "sandbox-demo"},
    )
    paths = [str(p.pattern).removeprefix("api/") for p in sandbox.urlpatterns]
    paths = [path for path in paths if not path.startswith("oauth/")]
    assert paths
    for path in paths:
        assert f"`GET /api/v1/proxy/{path}" in readme, path
        assert proxy(token, path).status_code == 200, path
    assert (
        f"`{sandbox_oauth.CLIENT_ID}`" in readme and f"`{sandbox_oauth.CLIENT_SECRET}`" in readme
    )
    assert proxy(token, "v1/invoices").status_code == 404  # "any other path"
    assert proxy(token, "v1/orders", method="post").status_code == 405


def test_api_key_header_and_query_string(infoplus, fake_systems):
    _, token = infoplus
    response = proxy(token, f"{INFOPLUS}?limit=1", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json() == [{"id": 1, "name": "Main"}]
    assert response["Content-Type"] == "application/json"
    seen = fake_systems.infoplus.requests[-1]
    assert seen.headers["api-key"] == "key-1" and seen.query == {"limit": ["1"]}
    assert seen.host == "acme.infopluswms.com"


def test_the_partners_credentials_and_other_headers_are_never_forwarded(infoplus, fake_systems):
    _, token = infoplus
    proxy(
        token,
        INFOPLUS,
        headers={
            "Cookie": "session=partner-secret",
            "X-Api-Key": "partner-key",
            "Connection": "keep-alive, X-Private",
            "X-Private": "1",
            "Prefer": "transient",
        },
    )
    seen = fake_systems.infoplus.requests[-1].headers
    assert "cookie" not in seen and "x-api-key" not in seen and "x-private" not in seen
    assert seen["prefer"] == "transient"
    assert not any(token in value for value in seen.values())


def test_mintsoft_keeps_its_key_and_logs_in_again_when_it_expires(acme, fake_systems):
    fake_systems.mintsoft.users["ops"] = MintsoftUser("s3cret")
    _, token = connected(
        acme.partner,
        system="mintsoft",
        config={"username": "ops"},
        credentials={"password": "s3cret"},
    )
    logins = lambda: sum(r.path == "/api/Auth" for r in fake_systems.mintsoft.requests)  # noqa: E731
    assert proxy(token, "api/Warehouse").status_code == 200
    assert proxy(token, "api/Warehouse").status_code == 200
    assert logins() == 1  # the key was kept (encrypted) between calls
    fake_systems.mintsoft.keys.clear()  # Mintsoft expired it early
    assert proxy(token, "api/Warehouse").status_code == 200
    assert logins() == 2


@pytest.fixture
def netsuite_m2m(acme, fake_systems):
    values, _ = m2m_integration(fake_systems.netsuite.add_account(ACCOUNT))
    config = {k: values[k] for k in ("client_id", "certificate_id")} | {"account": ACCOUNT}
    return connected(
        acme.partner,
        system="netsuite",
        config=config,
        credentials={"private_key": values["private_key"]},
    )


def test_netsuite_m2m_buys_one_access_token_and_reuses_it(netsuite_m2m, fake_systems):
    _, token = netsuite_m2m
    for record in ("1", "2"):
        response = proxy(token, f"services/rest/record/v1/customer/{record}")
        assert response.status_code == 200 and response.json()["id"] == record
    tokens_bought = [r for r in fake_systems.netsuite.requests if r.path.endswith("/token")]
    assert len(tokens_bought) == 1


def test_netsuite_suiteql_post_with_body_and_prefer(netsuite_m2m):
    _, token = netsuite_m2m
    response = proxy(
        token,
        "services/rest/query/v1/suiteql?limit=1",
        method="post",
        data={"q": "SELECT id FROM employee"},
        content_type="application/json",
        headers={"Prefer": "transient"},
    )
    assert response.status_code == 200 and response.json()["items"] == [{"links": [], "id": "7"}]


def test_netsuite_tba_signs_every_request_with_a_fresh_nonce(acme, fake_systems):
    account = fake_systems.netsuite.add_account(ACCOUNT)
    integration = account.add_integration(m2m=False, tba=True)
    grant = account.add_token(integration)
    _, token = connected(
        acme.partner,
        system="netsuite",
        method="tba",
        config={
            "account": ACCOUNT,
            "consumer_key": integration.client_id,
            "token_id": grant.token_id,
        },
        credentials={
            "consumer_secret": integration.consumer_secret,
            "token_secret": grant.token_secret,
        },
    )
    for _ in range(3):
        assert proxy(token, "services/rest/record/v1/customer/9?expand=x").status_code == 200
    assert len(fake_systems.netsuite.nonces) == 3


# --- what the proxy refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/evil.example/x",  # → //evil.example
        "https://evil.example/x",
        "..%2f..%2fadmin",
        "infoplus-wms/../../etc",
        "%2e%2e/x",
        "a@evil.example/x",
        "a\\..\\b",
        "x%00y",
        # Tomcat and others read a segment's ";params" off, so "..;" is ".." to them
        "infoplus-wms/..;/admin",
        "infoplus-wms/..%3b/admin",
        "infoplus-wms/..%3Bjsessionid=1/admin",
        "..x/admin",
        # path parameters on the first segment reach the base URL's own last segment
        ";x/admin",
        "infoplus-wms%3bv=1/api",
        # dots other decoders or normalisers (NFKC) turn into "."
        "%EF%BC%8E%EF%BC%8E/admin",  # U+FF0E fullwidth full stop
        "infoplus-wms/\u2024\u2024/admin",  # U+2024 one dot leader
        "\u3002\u3002/admin",  # U+3002 ideographic full stop
        "\uff61\uff61/admin",  # U+FF61 halfwidth ideographic full stop
        "\u2025/admin",  # U+2025 two dot leader: ".." in one character
        "infoplus-wms/\uff0e\uff0e\uff0fadmin",  # fullwidth solidus too
        # encoded more than once, or as overlong UTF-8
        "%252e%252e/admin",
        "%25252e%25252e/admin",
        "%c0%ae%c0%ae/admin",
        "%e0%80%ae%e0%80%ae/admin",
        "%25c0%25ae%25c0%25ae/admin",
    ],
)
def test_paths_that_would_leave_the_connections_host_are_refused(infoplus, fake_systems, path):
    _, token = infoplus
    response = proxy(token, path)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_path"
    assert fake_systems.infoplus.requests == []


@pytest.mark.parametrize(
    ("path", "received"),
    [
        ("infoplus-wms/customers/M%C3%BCller", "/infoplus-wms/customers/M%C3%BCller"),
        ("infoplus-wms/files/report.v2..json", "/infoplus-wms/files/report.v2..json"),
        ("infoplus-wms/.well-known/x", "/infoplus-wms/.well-known/x"),
        ("infoplus-wms/items;v=2/100%25", "/infoplus-wms/items;v=2/100%25"),
    ],
)
def test_ordinary_paths_still_reach_the_remote(infoplus, fake_systems, path, received):
    _, token = infoplus
    assert proxy(token, path).status_code == 404  # the remote's own answer
    assert [r.path for r in fake_systems.infoplus.requests] == [received]


def test_only_active_connections_proxy(infoplus):
    connection, token = infoplus
    connection_record_check(connection_id=connection.id, outcome=describe("invalid_credentials"))
    response = proxy(token, INFOPLUS)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "connection_invalid"
    connection_revoke(connection=Connection.objects.get(), actor="test")
    assert proxy(token, INFOPLUS).status_code == 401


def test_a_remote_401_brings_the_check_forward_and_two_refusals_minutes_apart_decide(
    infoplus, fake_systems, django_capture_on_commit_callbacks
):
    connection, token = infoplus
    fake_systems.infoplus.sites["acme"] = {"another-key"}
    assert proxy(token, INFOPLUS).status_code == 401  # the remote's own answer, passed on
    assert proxy(token, INFOPLUS).status_code == 401  # ... twice within a second
    assert not ValidationAttempt.objects.filter(connection=connection).exists()
    connection.refresh_from_db()
    soon = timezone.now() + timedelta(seconds=settings.ONRAMP_PROXY_RECHECK_DELAY)
    assert connection.status == "active" and connection.next_check_at <= soon
    first = check_due(connection, django_capture_on_commit_callbacks)
    assert first.status == "active" and first.last_error_code == "invalid_credentials"
    recheck = timedelta(seconds=settings.ONRAMP_CREDENTIAL_RECHECK_DELAY)
    assert first.next_check_at == first.last_checked_at + recheck
    second = check_due(first, django_capture_on_commit_callbacks)
    assert second.status == "invalid" and second.last_error_code == "invalid_credentials"


def test_a_refused_check_then_a_passing_one_keeps_the_connection(
    infoplus, fake_systems, django_capture_on_commit_callbacks
):
    connection, token = infoplus
    fake_systems.infoplus.sites["acme"] = {"another-key"}
    assert proxy(token, INFOPLUS).status_code == 401
    assert check_due(connection, django_capture_on_commit_callbacks).status == "active"
    fake_systems.infoplus.sites["acme"] = {"key-1"}  # the remote's hiccup is over
    healed = check_due(connection, django_capture_on_commit_callbacks)
    assert healed.status == "active" and healed.consecutive_failures == 0


def test_a_partner_retrying_in_a_loop_cannot_lock_the_customers_user(acme, fake_systems):
    fake_systems.mintsoft.users["ops"] = MintsoftUser("s3cret")
    _, token = connected(
        acme.partner,
        system="mintsoft",
        config={"username": "ops"},
        credentials={"password": "s3cret"},
    )
    logins = lambda: sum(r.path == "/api/Auth" for r in fake_systems.mintsoft.requests)  # noqa: E731
    assert proxy(token, "api/Warehouse").status_code == 200
    fake_systems.mintsoft.users["ops"] = MintsoftUser("changed")  # the password changed
    fake_systems.mintsoft.keys.clear()
    answers = [proxy(token, "api/Warehouse") for _ in range(30)]
    assert logins() <= 1 + settings.ONRAMP_PROXY_AUTH_REFUSALS  # not 31 failed sign-ins
    paused = answers[-1]
    assert paused.status_code == 503 and paused.json()["error"]["code"] == "remote_auth_paused"
    assert int(paused["Retry-After"]) == settings.ONRAMP_PROXY_AUTH_PAUSE


def check_due(connection: Connection, capture) -> Connection:
    """Time passes until the connection's next check, which runs."""
    Connection.objects.filter(pk=connection.pk).update(next_check_at=timezone.now())
    with capture(execute=True):
        assert health_checks_start() == 1
    connection.refresh_from_db()
    return connection


@pytest.mark.parametrize(
    ("content_type", "attached"),
    [
        ("text/html; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("image/svg+xml", True),
        ("text/xml", True),
        ("application/xml", True),
        ("application/pdf", True),
        ("", True),  # no type: never Django's default text/html
        ("application/json", False),  # data for the partner's code, shown inert at worst
    ],
)
def test_a_remote_page_never_runs_on_onramps_origin(
    infoplus, fake_systems, content_type, attached
):
    """A partner page linking to a proxy URL must not run the remote's script as Onramp."""
    _, token = infoplus
    fake_systems.infoplus.tricks.append(Trick("html", content_type=content_type))
    response = proxy(token, INFOPLUS)
    assert response.status_code == 200 and response.content == HTML_PAGE
    assert response["Content-Type"] == (content_type or "application/octet-stream")
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.get("Content-Disposition") == ("attachment" if attached else None)


def test_size_caps_both_ways(infoplus, settings, fake_systems):
    _, token = infoplus
    settings.ONRAMP_PROXY_MAX_RESPONSE_BYTES = 10
    response = proxy(token, INFOPLUS)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "remote_response_too_large"


def test_oversized_request_bodies_are_refused(infoplus, settings, fake_systems):
    _, token = infoplus
    settings.ONRAMP_PROXY_MAX_REQUEST_BYTES = 100
    response = proxy(token, INFOPLUS, method="post", data="x" * 200, content_type="text/plain")
    assert response.status_code == 413
    assert fake_systems.infoplus.requests == []


def test_a_slow_remote_is_a_504(infoplus, fake_systems, settings):
    _, token = infoplus
    settings.ONRAMP_OUTBOUND_DEADLINE = 1.0
    fake_systems.infoplus.tricks.append(Trick("stall", seconds=3))
    response = proxy(token, INFOPLUS)
    assert response.status_code == 504 and response.json()["error"]["code"] == "remote_timeout"


def test_a_per_connection_rate_limit_says_when_to_retry(infoplus, settings):
    _, token = infoplus
    settings.ONRAMP_PROXY_REQUESTS_PER_MINUTE = 2
    statuses = [proxy(token, INFOPLUS).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert int(proxy(token, INFOPLUS)["Retry-After"]) <= 60


def test_use_is_counted_without_bodies(infoplus):
    from django.core.cache import cache

    connection, token = infoplus
    for _ in range(3):
        proxy(token, INFOPLUS)
    connection.refresh_from_db()
    assert connection.proxy_requests == 1  # written at once, then at most every 10 s
    assert connection.last_proxied_at is not None
    cache.delete(f"onramp:proxy-uses-flushed:{connection.id}")  # ten seconds later
    proxy(token, INFOPLUS)
    connection.refresh_from_db()
    assert connection.proxy_requests == 4
    assert ConnectionToken.objects.get().last_used_at is not None


def test_calls_in_flight_are_capped_per_connection_and_per_host(infoplus, settings, acme):
    connection, token = infoplus
    _, neighbour = connected(acme.partner, end_user_id="user-2")  # the same remote host
    settings.ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION = 1
    settings.ONRAMP_PROXY_IN_FLIGHT_PER_HOST = 2
    with in_flight(Cap(f"connection:{connection.id}", 1), hold_seconds=60):
        mine = proxy(token, INFOPLUS)  # another call of this connection is in flight
        assert proxy(neighbour, INFOPLUS).status_code == 200
    assert mine.status_code == 429 and mine.json()["error"]["code"] == "too_many_in_flight"
    host = Cap("host:acme.infopluswms.com", 2)
    with in_flight(host, hold_seconds=60), in_flight(host, hold_seconds=60):
        busy = proxy(neighbour, INFOPLUS)
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "remote_busy"
    assert busy["Retry-After"] and proxy(token, INFOPLUS).status_code == 200  # slots returned


def test_one_partners_calls_in_flight_cannot_take_the_whole_pool(infoplus, settings):
    connection, token = infoplus
    _, sibling = connected(connection.partner, end_user_id="user-2")
    globex, _ = partner_create(name="Globex", origins=[], actor="test")
    _, other = connected(globex)  # another partner, the same remote host
    settings.ONRAMP_PROXY_IN_FLIGHT_PER_PARTNER = 2
    share = Cap(f"partner:{connection.partner_id}", 2)
    with in_flight(share, hold_seconds=60), in_flight(share, hold_seconds=60):
        mine = proxy(sibling, INFOPLUS)  # two of this partner's calls are in flight
        assert proxy(other, INFOPLUS).status_code == 200
    assert mine.status_code == 429
    assert mine.json()["error"]["code"] == "partner_too_many_in_flight"
    assert mine["Retry-After"] and proxy(token, INFOPLUS).status_code == 200  # slots returned


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
