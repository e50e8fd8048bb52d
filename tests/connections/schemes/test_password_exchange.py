"""Logging in for a session (``schemes/password_exchange.py``) with the options later systems
need, each against a simulator: Linnworks' answer names the server the account lives on (the
live check and the proxy go there, and a kept session remembers it); a login sent as a form
whose answer nests the session; ``extra_headers`` from the customer's own values; headers on
the login itself (``login_headers``) for a system that pairs its token with one."""

from __future__ import annotations

import tomllib

import pytest
from django.test import Client

from catalog.schema import parse_definition
from connections.schemes import SCHEMES
from connections.verification.run import build_target, verify
from tests.factories import connected, live_check
from tests.fakes.vendors_options import FakePairedLogin

pytestmark = pytest.mark.django_db

APP = {"application_id": "f2d6d944-b698-4776-bfc8-3d76c1d122c9"}
INSTALL = {"application_secret": "app-secret", "installation_token": "install-1"}


@pytest.fixture
def linnworks(fake_systems):
    fake = fake_systems.linnworks
    fake.installs["install-1"] = (APP["application_id"], "app-secret")
    return fake


def test_linnworks_checks_go_to_the_server_its_sign_in_names(linnworks):
    assert live_check("linnworks", "system_integration", APP, INSTALL) is None
    login, check = linnworks.requests
    assert login.host == "api.linnworks.net"
    assert login.json() == {
        "ApplicationId": APP["application_id"],
        "ApplicationSecret": "app-secret",
        "Token": "install-1",
    }
    assert check.host == "eu-ext.linnworks.net"
    assert check.headers["authorization"] in linnworks.sessions  # the bare session token


def test_a_wrong_linnworks_token_is_refused(linnworks):
    outcome = live_check(
        "linnworks", "system_integration", APP, INSTALL | {"installation_token": "other"}
    )
    assert outcome is not None and outcome.code == "invalid_credentials"


@pytest.mark.parametrize(
    "server",
    ["https://linnworks.net.evil.example", "http://eu-ext.linnworks.net", "", None],
)
def test_a_sign_in_answer_cannot_send_the_checks_elsewhere(linnworks, server):
    linnworks.account_server = server
    outcome = live_check("linnworks", "system_integration", APP, INSTALL)
    assert outcome is not None and outcome.code == "unexpected_response"
    assert all(r.host == "api.linnworks.net" for r in linnworks.requests)


def test_the_proxy_keeps_the_session_and_its_server(acme, linnworks):
    _, token = connected(
        acme.partner,
        system="linnworks",
        method="system_integration",
        config=APP,
        credentials=INSTALL,
    )
    partner = Client(headers={"Authorization": f"Bearer {token}"})
    for _ in range(3):
        answer = partner.get("/api/v1/proxy/api/Inventory/GetStockLocations")
        assert answer.status_code == 200
    logins = [r for r in linnworks.requests if r.path.endswith("/AuthorizeByApplication")]
    assert len(logins) == 1
    assert {r.host for r in linnworks.requests if r not in logins} == {"eu-ext.linnworks.net"}


FORM_LOGIN = """
slug = "acme-cmms"
name = "Acme CMMS"
vendor = "Acme"
summary = "A CMMS."
categories = ["cmms"]
base_url = "https://cmms.acme.test/api/v2"
[[fields]]
name = "company"
label = "Company"
help = "Your company code."
[[methods]]
id = "login"
scheme = "password_exchange"
label = "Email and password"
recommended = true
[methods.options]
url = "/auth"
body = { email = "{email}", password = "{password}" }
body_format = "form"
token_key = "result.sessionToken"
header = "Session-Token"
extra_headers = { X-Company = "{company}" }
[[methods.fields]]
name = "email"
label = "Email"
[[methods.fields]]
name = "password"
label = "Password"
secret = true
[[verify]]
label = "List assets"
method = "GET"
path = "/assets"
expect_key = "results"
"""


def form_login_check(config: dict[str, str], credentials: dict[str, str]):
    definition = parse_definition(tomllib.loads(FORM_LOGIN), source="acme-cmms.toml")
    target = build_target(definition, definition.methods[0], config)
    return verify(target, credentials, {}.update)


@pytest.fixture
def form_login(fake_systems):
    fake = fake_systems.form_login
    fake.users["api@acme.test"] = "pw"
    return fake


@pytest.mark.parametrize(
    ("company", "password", "code"),
    [("ACME", "pw", None), ("ACME", "wrong", "invalid_credentials"), ("OTHER", "pw", "forbidden")],
)
def test_a_form_login_with_a_nested_session_and_a_header_from_the_customers_values(
    form_login, company, password, code
):
    outcome = form_login_check(
        {"company": company, "email": "api@acme.test"}, {"password": password}
    )
    assert (outcome.code if outcome else None) == code
    login = form_login.requests[0]
    assert login.body.decode() == f"email=api%40acme.test&password={password}"
    assert "x-company" not in login.headers  # extra headers are for the API, not the sign-in


def test_a_login_answer_without_the_nested_session_is_not_taken_for_one(form_login):
    form_login.session_key = "token"  # a different shape than the definition expects
    outcome = form_login_check({"company": "ACME", "email": "api@acme.test"}, {"password": "pw"})
    assert outcome is not None and outcome.code == "unexpected_response"


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"body_format": "xml"}, "option 'body_format' must be one of ['form', 'json']"),
        ({"base_url_key": "Server"}, "options 'base_url_key' and 'base_url_domain' go together"),
        ({"extra_headers": "X-A"}, "option 'extra_headers' must be a dict"),
    ],
)
def test_the_scheme_refuses_options_it_cannot_use(options, problem):
    data = tomllib.loads(FORM_LOGIN)
    data["methods"][0]["options"] |= options
    method = parse_definition(data, source="acme-cmms.toml").methods[0]
    assert problem in SCHEMES["password_exchange"].check_method(method)


PAIRED_LOGIN = """
slug = "paired-cmms"
name = "Paired CMMS"
vendor = "Acme"
summary = "A CMMS whose token is paired with a client header."
categories = ["cmms"]
base_url = "https://cmms.paired.test"

[[fields]]
name = "username"
label = "Username"

[[methods]]
id = "login"
scheme = "password_exchange"
label = "Login"
recommended = true

[methods.options]
url = "/api/login"
body = { username = "{username}", password = "{password}" }
token_key = "token"
header = "Authorization"
prefix = "Bearer "
login_headers = { "Xt-UserAgent" = "Onramp-{username}" }
extra_headers = { "Xt-UserAgent" = "Onramp-{username}" }

[[methods.fields]]
name = "password"
label = "Password"
secret = true

[[verify]]
label = "List records"
method = "GET"
path = "/api/records"
expect_key = "records"
"""


@pytest.fixture(scope="module")
def paired_server():
    fake = FakePairedLogin().start()
    yield fake
    fake.stop()


@pytest.fixture
def paired(paired_server, settings):
    paired_server.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = f"cmms.paired.test={paired_server.url}"
    paired_server.users["api"] = "pw"
    return paired_server


def paired_check(text: str, password: str = "pw"):
    definition = parse_definition(tomllib.loads(text), source="paired-cmms.toml")
    target = build_target(definition, definition.methods[0], {"username": "api"})
    return verify(target, {"password": password}, {}.update)


def test_login_headers_go_on_the_login_and_the_token_works_with_them(paired):
    assert paired_check(PAIRED_LOGIN) is None
    login, check = paired.requests
    assert login.headers["xt-useragent"] == "Onramp-api"
    assert check.headers["xt-useragent"] == "Onramp-api"


def test_without_login_headers_such_a_login_is_refused(paired):
    bare = PAIRED_LOGIN.replace('login_headers = { "Xt-UserAgent" = "Onramp-{username}" }\n', "")
    outcome = paired_check(bare)
    assert outcome is not None and outcome.code == "invalid_credentials"
    assert not paired.tokens


def test_login_headers_may_not_use_a_secret():
    data = tomllib.loads(PAIRED_LOGIN)
    data["methods"][0]["options"]["login_headers"] = {"Xt-UserAgent": "{password}"}
    method = parse_definition(data, source="paired-cmms.toml").methods[0]
    assert "login_headers use the secret 'password'" in SCHEMES["password_exchange"].check_method(
        method
    )
