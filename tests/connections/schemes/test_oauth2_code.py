"""Signing in with OAuth 2.0 (``schemes/oauth2_code.py``: authorization code + PKCE, with the
sign-in step, token refresh and revocation at the provider): Xero, QuickBooks Online and
Business Central against an authorization server simulator that checks PKCE, exact redirect
URIs, single-use codes, client authentication and refresh-token rotation; Fakturoid (a JSON
code exchange and refresh with a User-Agent naming the app and a contact) against its own."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django import db
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from catalog.schema import MethodSpec, parse_definition
from connections.checks import definition_problems
from connections.errors import OnrampError
from connections.models import Connection, Event, SignIn, SignInOutcome, ValidationAttempt
from connections.schemes import SCHEMES
from connections.security import crypto
from connections.services.connections import connection_credentials_fresh, connection_revoke
from connections.services.credentials import connection_credentials, token_expiry
from connections.services.health import oauth_tokens_refresh_due
from connections.services.oauth import remote_revocations_send
from tests.fakes.base import Reply, Trick
from tests.fakes.vendors_options import FakeFakturoid

pytestmark = pytest.mark.django_db
CLIENT_ID, CLIENT_SECRET = "partner-app-id", "partner-app-secret"


def callback_uri() -> str:
    return f"{django_settings.ONRAMP_PUBLIC_URL}/oauth/callback/"


@pytest.fixture
def provider(fake_systems, api):
    """The three providers' paths on the simulator, each with the partner's app registered."""
    fake = fake_systems.oauth
    fake.add_client(CLIENT_ID, CLIENT_SECRET, [callback_uri()])
    fake.serve_provider(
        authorize="/identity/connect/authorize",
        token="/connect/token",
        revoke="/connect/revocation",
        connections="/connections",
        resources={"/api.xro/2.0/Organisation": _xero_organisation},
    )
    fake.serve_provider(
        authorize="/connect/oauth2",
        token="/oauth2/v1/tokens/bearer",
        revoke="/v2/oauth2/tokens/revoke",
        resources={"/v3/company/": _qbo_company},
    )
    fake.serve_provider(
        authorize="/organizations/oauth2/v2.0/authorize",
        token="/organizations/oauth2/v2.0/token",
        resources={"/v2.0/": _bc_companies},
    )
    for system in ("xero", "quickbooks-online", "microsoft-dynamics-365-business-central"):
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        assert (
            api.put(
                f"/api/v1/oauth-apps/{system}", body, content_type="application/json"
            ).status_code
            == 200
        )
    return fake


def _xero_organisation(grant, request) -> Reply:
    if request.headers.get("xero-tenant-id") != grant.tenant:
        return Reply(403, {"Title": "Forbidden", "Detail": "AuthenticationUnsuccessful"})
    return Reply(200, {"Organisations": [{"Name": "Acme Ltd", "OrganisationID": grant.tenant}]})


def _qbo_company(grant, request) -> Reply:
    if f"/v3/company/{grant.tenant}/" not in request.path:
        return Reply(403, {"Fault": {"Error": [{"Message": "Unauthorized"}]}})
    return Reply(200, {"CompanyInfo": {"CompanyName": "Acme Books", "Id": grant.tenant}})


def _bc_companies(grant, request) -> Reply:
    if not request.path.startswith("/v2.0/Production/"):
        return Reply(404, {"error": {"code": "NotFound", "message": "Environment not found"}})
    return Reply(200, {"value": [{"id": "c-1", "name": "CRONUS"}]})


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- the round trip ---------------------------------------------------------------------------


def test_xero_sign_in_connects_the_chosen_organisation(end_user, provider, acme):
    xero = end_user()
    to_provider = xero.sign_in("xero")
    assert to_provider.status_code == 302
    query = query_of(to_provider["Location"])
    assert to_provider["Location"].startswith("https://login.xero.com/identity/connect/authorize?")
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == callback_uri()
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert "offline_access" in query["scope"]
    page = xero.back_from_provider(provider.approve(query, tenant="org-42"))
    assert page.status_code == 200 and "Signed in to Xero" in page.content.decode()
    assert (
        page["Referrer-Policy"] == "no-referrer"
        and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    )
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "succeeded", attempt.error_message
    assert xero.sign_in_status("xero")["HX-Redirect"].endswith(f"/attempts/{attempt.id}/")
    connection = Connection.objects.get()
    assert connection.config["tenant_id"] == "org-42"
    stored = connection_credentials(connection)
    assert stored["refresh_token"] and stored["access_token"]
    assert stored["access_token"] not in connection.credentials  # ciphertext only
    assert connection.credentials_expire_at is not None
    assert provider.auth_methods_seen[-1] == "client_secret_basic"


def test_quickbooks_keeps_the_realm_from_the_callback(end_user, provider):
    provider.realm_in_redirect = True
    qbo = end_user()
    query = query_of(qbo.sign_in("quickbooks-online")["Location"])
    qbo.back_from_provider(provider.approve(query, tenant="9130355"))
    assert ValidationAttempt.objects.get().status == "succeeded"
    assert Connection.objects.get().config["realmId"] == "9130355"
    assert any("/v3/company/9130355/companyinfo/9130355" in r.path for r in provider.requests)


def test_business_central_takes_the_environment_typed_before_signing_in(end_user, provider):
    bc = end_user()
    refused = bc.sign_in("microsoft-dynamics-365-business-central", environment="not a name")
    assert refused.status_code == 422 and "letters, digits" in refused.content.decode()
    query = query_of(
        bc.sign_in("microsoft-dynamics-365-business-central", environment="Production")["Location"]
    )
    bc.back_from_provider(provider.approve(query))
    assert ValidationAttempt.objects.get().status == "succeeded"
    assert Connection.objects.get().config["environment"] == "Production"
    assert provider.auth_methods_seen[-1] == "client_secret_post"


def test_the_proxy_sends_the_bearer_and_the_tenant(end_user, provider, acme, api):
    xero = end_user()
    xero.back_from_provider(
        provider.approve(query_of(xero.sign_in("xero")["Location"]), tenant="org-7")
    )
    session = ValidationAttempt.objects.get().link_session
    public = api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"]
    token = api.post(
        "/api/v1/token-exchange", {"public_token": public}, content_type="application/json"
    ).json()
    partner = Client(headers={"Authorization": f"Bearer {token['access_token']}"})
    answer = partner.get("/api/v1/proxy/Organisation")
    assert (
        answer.status_code == 200
        and answer.json()["Organisations"][0]["OrganisationID"] == "org-7"
    )


def test_a_token_endpoint_down_during_a_refresh_is_a_json_502(end_user, provider, api):
    xero = end_user()
    xero.back_from_provider(
        provider.approve(query_of(xero.sign_in("xero")["Location"]), tenant="org-7")
    )
    session = ValidationAttempt.objects.get().link_session
    public = api.get(f"/api/v1/link-sessions/{session.id}").json()["public_token"]
    token = api.post(
        "/api/v1/token-exchange", {"public_token": public}, content_type="application/json"
    ).json()
    expire_access_token(Connection.objects.get())
    provider._routes[("POST", "/connect/token")] = lambda request: Reply(503, {"error": "down"})
    partner = Client(headers={"Authorization": f"Bearer {token['access_token']}"})
    answer = partner.get("/api/v1/proxy/Organisation")
    assert answer.status_code == 502 and answer["Content-Type"].startswith("application/json")
    assert answer.json()["error"]["code"] == "remote_server_error"
    assert Connection.objects.get().status == "active"  # the provider's outage, not theirs


# --- each way a sign-in ends without a connection ------------------------------------------


def test_declined_consent_says_so_and_offers_to_sign_in_again(end_user, provider):
    xero = end_user()
    page = xero.back_from_provider(provider.deny(query_of(xero.sign_in("xero")["Location"])))
    assert "You declined access in Xero" in page.content.decode()
    status = xero.sign_in_status("xero")
    assert (
        "You declined access in Xero" in status.content.decode()
        and 'role="alert"' in status.content.decode()
    )
    assert not ValidationAttempt.objects.exists()


def test_signing_in_again_retires_the_earlier_windows_state(end_user, provider):
    xero = end_user()
    query = query_of(xero.sign_in("xero")["Location"])
    assert xero.sign_in_status("xero").status_code == 204  # still waiting
    xero.sign_in("xero")
    late = xero.back_from_provider(provider.approve(query))
    assert "took too long or was already used" in late.content.decode()
    assert not ValidationAttempt.objects.exists()
    assert xero.sign_in_status("xero").status_code == 204  # the new sign-in still waits


def test_a_sign_in_waiting_past_its_lifetime_says_it_expired(end_user, provider):
    xero = end_user()
    xero.sign_in("xero")
    SignIn.objects.update(created_at=SignIn.objects.get().created_at.replace(year=2020))
    assert "took too long or was already used" in xero.sign_in_status("xero").content.decode()


def test_an_expired_or_replayed_state_is_refused(end_user, provider):
    xero = end_user()
    query = query_of(xero.sign_in("xero")["Location"])
    SignIn.objects.update(created_at=SignIn.objects.get().created_at.replace(year=2020))
    assert "took too long" in xero.back_from_provider(provider.approve(query)).content.decode()
    unknown = Client().get("/oauth/callback/?state=forged&code=x")
    assert unknown.status_code == 400 and "no longer valid" in unknown.content.decode()


def test_a_consent_url_finished_in_another_browser_attaches_nothing(end_user, provider, acme):
    attacker = end_user()
    forwarded = query_of(attacker.sign_in("xero")["Location"])  # sent to a victim to allow
    back = urlsplit(provider.approve(forwarded))
    page = Client().get(f"{back.path}?{back.query}")  # the victim's browser
    assert "started in another browser" in page.content.decode()
    assert not ValidationAttempt.objects.exists() and not Connection.objects.exists()
    assert SignIn.objects.get().outcome == SignInOutcome.OTHER_BROWSER
    late = attacker.back_from_provider(provider.approve(forwarded))  # the state is spent
    assert "Signed in to" not in late.content.decode()
    assert not ValidationAttempt.objects.exists()


def test_a_hosted_sign_in_never_sends_another_browser_to_the_flow(end_user, provider):
    xero = end_user()
    began = xero.post("s/xero/sign_in/sign-in/", {"in_popup": "0"})
    consent = xero.client.get(urlsplit(began["Location"]).path)
    back = urlsplit(provider.approve(query_of(consent["Location"])))
    page = Client().get(f"{back.path}?{back.query}")
    assert page.status_code == 200 and "/connect/" not in page.get("Location", "")
    assert "started in another browser" in page.content.decode()


def test_the_start_url_binds_the_first_browser_once_and_briefly(end_user, provider):
    xero = end_user()
    start = urlsplit(xero.post("s/xero/sign_in/sign-in/", {"in_popup": "1"})["Location"])
    assert start.path.startswith("/oauth/start/") and "onr_sb_" in start.path
    opened = xero.client.get(start.path)
    cookie = opened.cookies[f"onramp_sign_in_{SignIn.objects.get().pk}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/oauth/"
    assert opened["Referrer-Policy"] == "no-referrer" and "no-store" in opened["Cache-Control"]
    again = Client().get(start.path)
    assert again.status_code == 400 and "no longer valid" in again.content.decode()
    late = urlsplit(xero.post("s/xero/sign_in/sign-in/", {"in_popup": "1"})["Location"])
    SignIn.objects.filter(bound_at=None).update(created_at=timezone.now() - timedelta(minutes=3))
    assert Client().get(late.path).status_code == 400


def test_a_sign_in_that_connects_no_organisation_says_which_way_to_go(end_user, provider):
    provider._routes[("GET", "/connections")] = lambda request: Reply(200, [])
    xero = end_user()
    page = xero.back_from_provider(provider.approve(query_of(xero.sign_in("xero")["Location"])))
    assert "no Xero organisation was connected" in page.content.decode()


def test_without_the_partners_app_the_sign_in_is_not_offered(end_user, fake_systems):
    xero = end_user()
    assert "system-option-xero" not in xero.get("systems/?q=xero").content.decode()
    assert xero.sign_in("xero").status_code == 404  # tests/connections/flow/test_offered.py


# --- tokens over time -------------------------------------------------------------------------


@pytest.fixture
def xero_connection(end_user, provider):
    xero = end_user()
    xero.back_from_provider(
        provider.approve(query_of(xero.sign_in("xero")["Location"]), tenant="org-1")
    )
    return Connection.objects.get()


def expire_access_token(connection: Connection) -> str:
    credentials = connection_credentials(connection)
    credentials["expires_at"] = str(int(time.time()) - 10)
    connection.credentials = crypto.seal(
        credentials, aad=crypto.associated_data(connection, "credentials")
    )
    connection.credentials_expire_at = token_expiry(credentials)
    connection.save()
    return credentials["refresh_token"]


def test_an_expiring_token_is_refreshed_and_the_new_refresh_token_kept(xero_connection, provider):
    old_refresh = expire_access_token(xero_connection)
    assert oauth_tokens_refresh_due() == 1
    xero_connection.refresh_from_db()
    fresh = connection_credentials(xero_connection)
    assert fresh["refresh_token"] != old_refresh and int(fresh["expires_at"]) > time.time() + 600
    assert not provider.token_active(old_refresh)  # rotated


@pytest.mark.skipif(not django_settings.USING_POSTGRES, reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_spend_the_refresh_token_once(xero_connection, provider):
    expire_access_token(xero_connection)
    from connections.services.oauth import oauth_credentials_fresh

    results = []

    def refresh() -> None:
        try:
            results.append(oauth_credentials_fresh(xero_connection))
        finally:
            db.connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    refreshes = [
        r for r in provider.requests if r.path == "/connect/token" and b"refresh_token" in r.body
    ]
    assert len(refreshes) == 1 and len({r["access_token"] for r in results}) == 1
    assert Connection.objects.get().status == "active"


def test_a_refresh_refused_for_good_makes_the_connection_invalid(xero_connection, provider, api):
    refresh = expire_access_token(xero_connection)
    provider.refresh_tokens[refresh].revoked = True  # the user disconnected the app in Xero
    oauth_tokens_refresh_due()
    xero_connection.refresh_from_db()
    assert (
        xero_connection.status == "invalid" and xero_connection.last_error_code == "invalid_grant"
    )
    assert Event.objects.filter(kind="connection.invalid", connection=xero_connection).exists()


def test_revoking_the_connection_revokes_the_grant_at_the_provider(
    xero_connection, provider, django_capture_on_commit_callbacks
):
    refresh = connection_credentials(xero_connection)["refresh_token"]
    with django_capture_on_commit_callbacks(execute=True):
        connection_revoke(connection=xero_connection, actor="partner")
    assert not provider.token_active(refresh)
    assert remote_revocations_send() == 0  # nothing left to send


@pytest.mark.django_db(transaction=True)
def test_a_revoke_during_a_refresh_revokes_the_grant_the_refresh_brings_back(
    xero_connection, provider
):
    expire_access_token(xero_connection)
    provider.tricks.append(Trick("stall", seconds=2))  # the refresh is in flight meanwhile
    outcome: list[object] = []

    def refresh() -> None:
        try:
            outcome.append(connection_credentials_fresh(Connection.objects.get()))
        except OnrampError as refused:
            outcome.append(refused.code)
        finally:
            db.connection.close()

    refreshing = threading.Thread(target=refresh)
    refreshing.start()
    wait_for(lambda: refreshes(provider) == 1, "the refresh to reach the provider")
    connection_revoke(connection=Connection.objects.get(), actor="partner")
    refreshing.join(60)
    assert outcome == ["connection_invalid"]
    connection = Connection.objects.get()
    assert connection.status == "revoked" and connection.credentials == ""
    remote_revocations_send()
    live = [
        token for token, grant in provider.refresh_tokens.items() if provider.token_active(token)
    ]
    assert live == []  # neither the spent refresh token nor the one issued after the revoke


def test_the_systems_api_says_where_an_app_is_needed(api, provider):
    systems = {s["slug"]: s for s in api.get("/api/v1/systems").json()["data"]}
    xero = systems["xero"]["methods"][0]
    assert xero["signs_in"] and xero["oauth_app_registered"] is True
    assert systems["infoplus"]["methods"][0]["oauth_app_registered"] is None
    unknown = api.put(
        "/api/v1/oauth-apps/infoplus",
        {"client_id": "a", "client_secret": "b"},
        content_type="application/json",
    )
    assert unknown.status_code == 404


# --- refreshes that cannot know whether they spent the token ----------------------------------


def wait_for(predicate, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def refreshes(provider) -> int:
    return sum(1 for r in provider.requests if b"grant_type=refresh_token" in r.body)


@pytest.mark.django_db(transaction=True)
def test_a_refresh_whose_process_died_after_the_provider_rotated_ends_as_interrupted(
    xero_connection, provider, stack
):
    expire_access_token(xero_connection)
    provider.tricks.append(Trick("stall", seconds=6))  # the provider rotates, then answers
    dying = stack.python(
        "from connections.models import Connection\n"
        "from connections.services.oauth import oauth_credentials_fresh\n"
        f"oauth_credentials_fresh(Connection.objects.get(pk={xero_connection.pk!r}))\n"
    )
    wait_for(lambda: refreshes(provider) == 1, "the refresh to reach the provider")
    dying.kill()
    time.sleep(7)  # the stalled provider has rotated the refresh token by now
    wait_for(
        lambda: Connection.objects.get().refresh_claimed_until < timezone.now(),
        "the dead process's claim to lapse",
    )
    with pytest.raises(OnrampError):
        connection_credentials_fresh(Connection.objects.get())
    connection = Connection.objects.get()
    assert connection.status == "invalid" and connection.last_error_code == "refresh_interrupted"
    assert Event.objects.filter(kind="connection.refresh_interrupted").count() == 1
    invalid = Event.objects.get(kind="connection.invalid")
    assert invalid.data["error"]["code"] == "refresh_interrupted"


def test_a_refresh_is_never_inside_a_transaction_that_could_roll_its_tokens_back(
    xero_connection, provider
):
    expire_access_token(xero_connection)
    with pytest.raises(RuntimeError), transaction.atomic():
        connection_credentials_fresh(Connection.objects.get())
    assert refreshes(provider) == 0  # refused before the refresh token was spent


# --- a provider per region: the URLs from the customer's values and the token answer ---------


@pytest.fixture
def zoho(fake_systems, api):
    fake = fake_systems.oauth
    fake.add_client(CLIENT_ID, CLIENT_SECRET, [callback_uri()])
    organizations = lambda grant, request: Reply(200, {"code": 0, "organizations": []})  # noqa: E731
    fake.serve_provider(
        authorize="/oauth/v2/auth",
        token="/oauth/v2/token",
        resources={"/books/v3/organizations": organizations},
    )
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    answer = api.put("/api/v1/oauth-apps/zoho-books", body, content_type="application/json")
    assert answer.status_code == 200
    return fake


def test_zoho_signs_in_at_the_customers_data_centre_and_calls_the_api_domain_it_answers(
    end_user, zoho
):
    zoho.token_extras = {"api_domain": "https://www.zohoapis.eu"}
    books = end_user()
    to_provider = books.sign_in("zoho-books", zoho_domain="zoho.eu")
    assert to_provider["Location"].startswith("https://accounts.zoho.eu/oauth/v2/auth?")
    books.back_from_provider(zoho.approve(query_of(to_provider["Location"])))
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "succeeded", attempt.error_message
    token_call = next(r for r in zoho.requests if r.path == "/oauth/v2/token")
    assert token_call.host == "accounts.zoho.eu"
    check = zoho.requests[-1]
    assert (check.host, check.path) == ("www.zohoapis.eu", "/books/v3/organizations")
    assert Connection.objects.get().config["api_domain"] == "https://www.zohoapis.eu"


@pytest.mark.parametrize("api_domain", ["https://www.zohoapis.eu.evil.example", None])
def test_a_token_answer_without_a_zoho_api_domain_connects_nothing(end_user, zoho, api_domain):
    zoho.token_extras = {"api_domain": api_domain} if api_domain else {}
    books = end_user()
    to_provider = books.sign_in("zoho-books", zoho_domain="zoho.eu")
    page = books.back_from_provider(zoho.approve(query_of(to_provider["Location"])))
    assert page.status_code == 200
    assert not ValidationAttempt.objects.exists()
    assert not any(r.host.endswith("evil.example") for r in zoho.requests)
    assert SignIn.objects.get().outcome == SignInOutcome.FAILED


def test_a_data_centre_outside_the_list_is_refused_before_signing_in(end_user, zoho):
    refused = end_user().sign_in("zoho-books", zoho_domain="evil.example")
    assert refused.status_code == 422
    assert not zoho.requests


def _myob_info(grant, request) -> Reply:
    if request.headers.get("x-myobapi-key") != CLIENT_ID:
        return Reply(401, {"Errors": [{"Name": "Unauthorized", "Message": "Invalid API key"}]})
    if request.headers.get("x-myobapi-version") != "v2":
        return Reply(400, {"Errors": [{"Name": "Version", "Message": "Unknown version"}]})
    if request.path != f"/accountright/{grant.tenant}/Info":
        return Reply(403, {"Errors": [{"Name": "Forbidden", "Message": "No consent"}]})
    return Reply(200, {"SerialNumber": "1", "CompanyFileId": grant.tenant})


def test_myob_names_the_partners_app_and_the_version_on_each_call(end_user, fake_systems, api):
    fake = fake_systems.oauth
    fake.add_client(CLIENT_ID, CLIENT_SECRET, [callback_uri()])
    fake.tenant_param = "businessId"  # the company file the administrator chose
    fake.serve_provider(
        authorize="/oauth2/account/authorize",
        token="/oauth2/v1/authorize",
        resources={"/accountright/": _myob_info},
    )
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    answer = api.put("/api/v1/oauth-apps/myob-business", body, content_type="application/json")
    assert answer.status_code == 200
    myob = end_user()
    query = query_of(myob.sign_in("myob-business")["Location"])
    assert query["prompt"] == "consent"
    myob.back_from_provider(fake.approve(query, tenant="5d4b1ce0-bb9f-4f4c-9578-2b168b7295db"))
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "succeeded", attempt.error_message
    config = Connection.objects.get().config
    assert config["businessId"] == "5d4b1ce0-bb9f-4f4c-9578-2b168b7295db"
    assert config["oauth_client_id"] == CLIENT_ID


# --- a JSON code exchange with headers of its own: Fakturoid (tests/fakes/vendors_options.py) --


@pytest.fixture(scope="module")
def fakturoid_server():
    fake = FakeFakturoid().start()
    yield fake
    fake.stop()


@pytest.fixture
def fakturoid(fakturoid_server, settings, api):
    fake = fakturoid_server
    fake.reset()
    fake.clients[CLIENT_ID] = CLIENT_SECRET
    settings.ONRAMP_OUTBOUND_HOST_MAP = ",".join(f"{h}={fake.url}" for h in fake.hosts)
    settings.ONRAMP_CONTACT_EMAIL = "integrations@onramp.test"
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    answer = api.put("/api/v1/oauth-apps/fakturoid", body, content_type="application/json")
    assert answer.status_code == 200
    return fake


def _fakturoid_connection(end_user, fakturoid) -> Connection:
    user = end_user()
    to_provider = user.sign_in("fakturoid", account="applecorp")
    assert to_provider["Location"].startswith("https://app.fakturoid.cz/api/v3/oauth?")
    user.back_from_provider(fakturoid.approve(query_of(to_provider["Location"])))
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "succeeded", attempt.error_message
    return Connection.objects.get()


def test_fakturoid_trades_the_code_as_json_naming_the_app_and_a_contact(end_user, fakturoid):
    connection = _fakturoid_connection(end_user, fakturoid)
    token_call = next(r for r in fakturoid.requests if r.path == "/api/v3/oauth/token.json")
    assert token_call.headers["content-type"].startswith("application/json")
    assert token_call.json()["grant_type"] == "authorization_code"
    assert token_call.headers["user-agent"] == "Onramp (integrations@onramp.test)"
    checks = [r.path for r in fakturoid.requests if r.method == "GET"]
    assert checks == ["/api/v3/user.json", "/api/v3/accounts/applecorp/account.json"]
    assert all(
        r.headers["user-agent"].endswith("(integrations@onramp.test)") for r in fakturoid.requests
    )
    assert connection.config["account"] == "applecorp"


def test_fakturoid_refreshes_as_json_too(end_user, fakturoid):
    connection = _fakturoid_connection(end_user, fakturoid)
    expire_access_token(connection)
    fresh = connection_credentials_fresh(connection)
    refresh = [r for r in fakturoid.requests if r.path == "/api/v3/oauth/token.json"][-1]
    assert refresh.json()["grant_type"] == "refresh_token"
    assert refresh.headers["user-agent"] == "Onramp (integrations@onramp.test)"
    assert fresh["access_token"] in fakturoid.tokens


def test_without_a_contact_fakturoid_refuses_the_sign_in(end_user, fakturoid, settings):
    settings.ONRAMP_CONTACT_EMAIL = ""
    user = end_user()
    to_provider = user.sign_in("fakturoid", account="applecorp")
    user.back_from_provider(fakturoid.approve(query_of(to_provider["Location"])))
    assert not ValidationAttempt.objects.exists()
    assert SignIn.objects.get().outcome == SignInOutcome.FAILED
    assert not fakturoid.tokens


def test_token_format_and_token_headers_are_checked():
    method = MethodSpec(
        id="m",
        scheme="oauth2_code",
        label="m",
        options={
            "authorize_url": "https://x.example/a",
            "token_url": "https://x.example/t",
            "scope": "",
            "token_format": "xml",
            "token_headers": "User-Agent: me",
        },
    )
    problems = SCHEMES["oauth2_code"].check_method(method)
    assert "option 'token_format' must be 'form' or 'json'" in problems
    assert "option 'token_headers' must be a dict" in problems


def test_a_definition_with_malformed_token_headers_is_reported_not_crashed():
    data = {
        "slug": "x",
        "name": "X",
        "vendor": "X",
        "summary": "X",
        "categories": ["accounting"],
        "base_url": "https://x.example",
        "methods": [
            {
                "id": "m",
                "scheme": "oauth2_code",
                "label": "m",
                "recommended": True,
                "options": {
                    "authorize_url": "https://x.example/a",
                    "token_url": "https://x.example/t",
                    "scope": "",
                    "token_headers": "User-Agent: me",
                },
            }
        ],
        "verify": [{"label": "Me", "method": "GET", "path": "/me"}],
    }
    problems = definition_problems(parse_definition(data, source="x.toml"))
    assert "method 'm': option 'token_headers' must be a dict" in problems
