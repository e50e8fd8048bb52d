"""The OAuth 2.0 authorization server simulator (``tests/fakes/oauth.py``) checks what real
servers check, over real HTTP: PKCE, exact redirect URIs, single-use codes bound to their
client, client authentication, refresh-token rotation and revocation."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.oauth import AuthorizeRefused, FakeAuthorizationServer, pkce_pair

CLIENT, SECRET = "onramp-client", "s3cret-value"
REDIRECT = "https://onramp.example.com/oauth/callback"
OTHER, OTHER_SECRET = "other-client", "other-secret"
TIMEOUT = 5


@pytest.fixture(scope="module")
def _auth_server() -> Iterator[FakeAuthorizationServer]:
    server = FakeAuthorizationServer().start()
    yield server
    server.stop()


@pytest.fixture
def auth(_auth_server: FakeAuthorizationServer) -> FakeAuthorizationServer:
    _auth_server.reset()
    _auth_server.add_client(CLIENT, SECRET, [REDIRECT])
    _auth_server.add_client(OTHER, OTHER_SECRET, ["https://other.example.com/cb"])
    return _auth_server


class Flow:
    """One authorization request: its query and the PKCE verifier behind it."""

    def __init__(self, **overrides: str) -> None:
        self.verifier, challenge = pkce_pair()
        self.query: dict[str, str] = {
            "response_type": "code",
            "client_id": CLIENT,
            "redirect_uri": REDIRECT,
            "scope": "accounting.read offline_access",
            "state": "xyz-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **overrides,
        }


def callback_params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def post_token(
    auth: FakeAuthorizationServer, data: dict[str, str], basic: bool = True
) -> requests.Response:
    if basic:
        return requests.post(
            auth.url + "/token", data=data, auth=(CLIENT, SECRET), timeout=TIMEOUT
        )
    form = {"client_id": CLIENT, "client_secret": SECRET, **data}
    return requests.post(auth.url + "/token", data=form, timeout=TIMEOUT)


def redeem(
    auth: FakeAuthorizationServer, flow: Flow, code: str, basic: bool = True, **extra: str
) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": flow.verifier,
        **extra,
    }
    return post_token(auth, data, basic)


def connect(auth: FakeAuthorizationServer, **approve: str) -> dict[str, Any]:
    flow = Flow()
    code = callback_params(auth.approve(flow.query, **approve))["code"]
    answer = redeem(auth, flow, code)
    assert answer.status_code == 200, answer.text
    return answer.json()


def me(auth: FakeAuthorizationServer, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(auth.url + "/api/me", headers=headers, timeout=TIMEOUT)


def refresh(auth: FakeAuthorizationServer, token: str) -> requests.Response:
    return post_token(auth, {"grant_type": "refresh_token", "refresh_token": token})


def test_a_browser_can_click_through_the_consent_page(auth):
    flow = Flow()
    page = requests.get(auth.url + "/authorize", params=flow.query, timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    allow = html.unescape(re.search(r'id="allow" href="([^"]+)"', page.text)[1])
    back = requests.get(auth.url + allow, allow_redirects=False, timeout=TIMEOUT)
    assert back.status_code == 302
    assert back.headers["Location"].startswith(REDIRECT + "?")
    params = callback_params(back.headers["Location"])
    assert params["state"] == "xyz-state"
    token = redeem(auth, flow, params["code"]).json()
    assert me(auth, token["access_token"]).json() == {"tenant": "tenant-1", "user": "user-1"}


def test_the_deny_link_sends_access_denied_with_the_state(auth):
    page = requests.get(auth.url + "/authorize", params=Flow().query, timeout=TIMEOUT)
    deny = html.unescape(re.search(r'id="deny" href="([^"]+)"', page.text)[1])
    back = requests.get(auth.url + deny, allow_redirects=False, timeout=TIMEOUT)
    params = callback_params(back.headers["Location"])
    assert params["error"] == "access_denied" and params["state"] == "xyz-state"
    assert "code" not in params
    assert callback_params(auth.deny(Flow().query))["error"] == "access_denied"


def test_a_token_answer_has_the_rfc_6749_fields(auth):
    token = connect(auth)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 1800
    assert token["scope"] == "accounting.read offline_access"
    assert token["access_token"] and token["refresh_token"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": ""},
        {"code_challenge": "too-short"},
    ],
)
def test_pkce_s256_is_required(auth, overrides):
    flow = Flow(**overrides)
    with pytest.raises(AuthorizeRefused) as refused:
        auth.approve(flow.query)
    assert refused.value.error == "invalid_request"
    assert callback_params(refused.value.redirect_url)["state"] == "xyz-state"


def test_a_missing_challenge_is_sent_back_to_the_client_over_http(auth):
    query = {k: v for k, v in Flow().query.items() if not k.startswith("code_challenge")}
    answer = requests.get(
        auth.url + "/authorize", params=query, allow_redirects=False, timeout=TIMEOUT
    )
    assert answer.status_code == 302
    assert callback_params(answer.headers["Location"])["error"] == "invalid_request"


def test_the_code_verifier_must_match_the_challenge(auth):
    flow = Flow()
    code = callback_params(auth.approve(flow.query))["code"]
    wrong = redeem(auth, flow, code, code_verifier=pkce_pair()[0])
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    missing = post_token(
        auth, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert redeem(auth, flow, code).status_code == 200


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT + "/extra",
        REDIRECT + "/",
        REDIRECT + "?next=/admin",
        "https://onramp.example.com/oauth",
        REDIRECT.replace("https", "http"),
        REDIRECT.upper(),
    ],
)
def test_the_redirect_uri_must_match_exactly(auth, redirect_uri):
    with pytest.raises(AuthorizeRefused) as refused:
        auth.approve(Flow(redirect_uri=redirect_uri).query)
    assert refused.value.redirect_url is None  # never redirect to an unverified URI
    answer = requests.get(
        auth.url + "/authorize",
        params=Flow(redirect_uri=redirect_uri).query,
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_an_unknown_client_is_refused_without_redirect(auth):
    with pytest.raises(AuthorizeRefused) as refused:
        auth.approve(Flow(client_id="nobody").query)
    assert refused.value.redirect_url is None


def test_the_token_request_must_repeat_the_redirect_uri(auth):
    flow = Flow()
    code = callback_params(auth.approve(flow.query))["code"]
    wrong = redeem(auth, flow, code, redirect_uri=REDIRECT + "/")
    assert wrong.json()["error"] == "invalid_grant"


def test_a_code_is_single_use_and_a_replay_revokes_its_tokens(auth):
    flow = Flow()
    code = callback_params(auth.approve(flow.query))["code"]
    first = redeem(auth, flow, code).json()
    replay = redeem(auth, flow, code)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert me(auth, first["access_token"]).status_code == 401
    assert refresh(auth, first["refresh_token"]).status_code == 400


def test_a_code_expires(auth):
    flow = Flow()
    code = callback_params(auth.approve(flow.query))["code"]
    later = time.time() + 61
    auth.now = lambda: later
    assert redeem(auth, flow, code).json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_client(auth):
    flow = Flow()
    code = callback_params(auth.approve(flow.query))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": flow.verifier,
    }
    answer = requests.post(
        auth.url + "/token", data=data, auth=(OTHER, OTHER_SECRET), timeout=TIMEOUT
    )
    assert answer.json()["error"] == "invalid_grant"
    assert redeem(auth, flow, code).status_code == 200


def test_both_client_authentication_methods_are_accepted_and_recorded(auth):
    for basic in (True, False):
        flow = Flow()
        code = callback_params(auth.approve(flow.query))["code"]
        assert redeem(auth, flow, code, basic=basic).status_code == 200
    assert auth.auth_methods_seen == ["client_secret_basic", "client_secret_post"]


def test_bad_client_authentication_is_refused(auth):
    data = {"grant_type": "refresh_token", "refresh_token": "x"}
    wrong = requests.post(auth.url + "/token", data=data, auth=(CLIENT, "no"), timeout=TIMEOUT)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    anonymous = requests.post(auth.url + "/token", data=data, timeout=TIMEOUT)
    assert anonymous.status_code == 401
    both = requests.post(
        auth.url + "/token",
        data={**data, "client_id": CLIENT, "client_secret": SECRET},
        auth=(CLIENT, SECRET),
        timeout=TIMEOUT,
    )
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")
    assert auth.auth_methods_seen == []


def test_the_token_endpoint_wants_a_form(auth):
    answer = requests.post(
        auth.url + "/token",
        json={"grant_type": "refresh_token"},
        auth=(CLIENT, SECRET),
        timeout=TIMEOUT,
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")
    unknown = post_token(auth, {"grant_type": "password"})
    assert unknown.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_and_the_old_refresh_token_stops_working(auth):
    first = connect(auth)
    second = refresh(auth, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert me(auth, rotated["access_token"]).status_code == 200
    reused = refresh(auth, first["refresh_token"])
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    assert refresh(auth, rotated["refresh_token"]).status_code == 200


def test_reuse_detection_can_revoke_the_whole_family(auth):
    auth.reuse_revokes_family = True
    first = connect(auth)
    rotated = refresh(auth, first["refresh_token"]).json()
    assert refresh(auth, first["refresh_token"]).status_code == 400
    assert refresh(auth, rotated["refresh_token"]).status_code == 400
    assert me(auth, rotated["access_token"]).status_code == 401


def test_revoking_the_refresh_token_revokes_its_access_tokens(auth):
    token = connect(auth)
    revoke = requests.post(
        auth.url + "/revoke",
        data={"token": token["refresh_token"]},
        auth=(CLIENT, SECRET),
        timeout=TIMEOUT,
    )
    assert revoke.status_code == 200
    assert refresh(auth, token["refresh_token"]).json()["error"] == "invalid_grant"
    assert me(auth, token["access_token"]).json()["error"] == "invalid_token"
    assert not auth.token_active(token["refresh_token"])


def test_revocation_answers_200_for_unknown_tokens_but_wants_the_client(auth):
    unknown = requests.post(
        auth.url + "/revoke", data={"token": "nope"}, auth=(CLIENT, SECRET), timeout=TIMEOUT
    )
    assert unknown.status_code == 200
    anonymous = requests.post(auth.url + "/revoke", data={"token": "nope"}, timeout=TIMEOUT)
    assert anonymous.status_code == 401


def test_another_client_cannot_revoke_my_tokens(auth):
    token = connect(auth)
    requests.post(
        auth.url + "/revoke",
        data={"token": token["refresh_token"]},
        auth=(OTHER, OTHER_SECRET),
        timeout=TIMEOUT,
    )
    assert auth.token_active(token["refresh_token"])


def test_the_api_wants_a_live_bearer_token(auth):
    token = connect(auth, user="alice", tenant="org-42")
    assert me(auth, token["access_token"]).json() == {"tenant": "org-42", "user": "alice"}
    anonymous = requests.get(auth.url + "/api/me", timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert me(auth, "forged").json()["error"] == "invalid_token"
    later = time.time() + 1801
    auth.now = lambda: later
    expired = me(auth, token["access_token"])
    assert (expired.status_code, expired.json()["error"]) == (401, "invalid_token")


def test_connections_lists_the_users_tenants_like_xero(auth):
    auth.tenant_names["org-1"] = "Demo Company (UK)"
    connect(auth, tenant="org-1")
    token = connect(auth, tenant="org-2")
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    listed = requests.get(auth.url + "/connections", headers=headers, timeout=TIMEOUT).json()
    assert [(c["tenantId"], c["tenantName"]) for c in listed] == [
        ("org-1", "Demo Company (UK)"),
        ("org-2", "org-2"),
    ]


def test_quickbooks_style_realm_id_in_the_redirect(auth):
    auth.realm_in_redirect = True
    params = callback_params(auth.approve(Flow().query, tenant="9130347"))
    assert params["realmId"] == "9130347"
