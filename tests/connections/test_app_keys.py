"""A partner's own app key for systems that are not OAuth sign-ins (``app_headers``): offered
only once the partner registered its app, sent on the live check, the health check and the
proxy, never another partner's, never shown or logged. Visma e-conomic's simulator checks the
pair (the grant belongs to the app it was made for)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from catalog.models import System
from catalog.registry import get_definition
from connections.checks import definition_problems
from connections.models import Connection, ConnectionStatus
from connections.services.health import health_check_run
from connections.services.oauth import oauth_app_set
from connections.services.partners import partner_create
from connections.services.proxy import connection_read
from tests.factories import connected
from tests.fakes.vendors_appkeys import FakeEconomic

pytestmark = pytest.mark.django_db

ECONOMIC = "visma-e-conomic"
APP_SECRET = "app-secret-canary-7f3a91"
OTHER_SECRET = "other-partners-secret-c0ffee"
GRANT = "grant-token-canary-55e2"


@pytest.fixture(scope="module")
def economic_server() -> Iterator[FakeEconomic]:
    fake = FakeEconomic().start()
    yield fake
    fake.stop()


@pytest.fixture
def economic(economic_server: FakeEconomic, settings: Any) -> FakeEconomic:
    economic_server.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = f"restapi.e-conomic.com={economic_server.url}"
    economic_server.grants[GRANT] = APP_SECRET
    return economic_server


def register(partner, secret: str = APP_SECRET, system: str = ECONOMIC) -> None:
    oauth_app_set(
        partner=partner, system=system, client_id="public-token", client_secret=secret, actor="t"
    )


def systems(api: Client) -> dict[str, dict]:
    return {system["slug"]: system for system in api.get("/api/v1/systems").json()["data"]}


def methods(system: dict) -> dict[str, dict]:
    return {method["id"]: method for method in system["methods"]}


# --- offered only once the partner registered its app ----------------------------------------


def test_without_the_partners_app_the_systems_say_why(api):
    found = systems(api)
    for slug in (ECONOMIC, "servicetitan"):
        assert found[slug]["available"] is False
        assert found[slug]["unavailable_reason"] == "oauth_app_missing"
    priority = methods(found["priority-software"])
    assert found["priority-software"]["available"] is True and priority["basic"]["available"]
    assert priority["basic_app_licence"]["unavailable_reason"] == "oauth_app_missing"
    assert priority["basic_app_licence"]["oauth_app_registered"] is False


def test_registering_the_app_through_the_api_offers_the_method(api):
    response = api.put(
        f"/api/v1/oauth-apps/{ECONOMIC}",
        {"client_id": "public-token", "client_secret": APP_SECRET},
        content_type="application/json",
    )
    assert response.status_code == 200 and APP_SECRET not in response.content.decode()
    economic = systems(api)[ECONOMIC]
    assert economic["available"] is True
    assert methods(economic)["grant_token"]["oauth_app_registered"] is True


def test_a_system_without_such_a_method_takes_no_app(api):
    response = api.put(
        "/api/v1/oauth-apps/veeqo",
        {"client_id": "x", "client_secret": "y"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_the_flow_does_not_offer_it_without_the_app(end_user):
    user = end_user()
    assert f"system-option-{ECONOMIC}" not in user.get("systems/?q=economic").content.decode()
    assert user.get(f"s/{ECONOMIC}/").status_code == 404
    assert user.get(f"s/{ECONOMIC}/grant_token/details/").status_code == 404
    priority = user.get("s/priority-software/")  # only the method without the licence left
    assert priority.status_code == 302 and priority["Location"].endswith("/basic/")


def test_another_partners_app_offers_nothing_to_this_one(acme, end_user):
    other, _ = partner_create(name="Other", origins=["https://other.test"], actor="test")
    register(other, OTHER_SECRET)
    assert end_user().get(f"s/{ECONOMIC}/").status_code == 404


# --- sent on every call, the partner's own, never shown ---------------------------------------


def test_the_customer_gives_only_the_grant_and_the_check_sends_the_partners_app(
    acme, api, end_user, economic, caplog
):
    other, _ = partner_create(name="Other", origins=["https://other.test"], actor="test")
    register(other, OTHER_SECRET)
    register(acme.partner)
    user = end_user()
    caplog.set_level(logging.DEBUG)
    details = user.get(f"s/{ECONOMIC}/grant_token/details/").content.decode()
    inputs = re.findall(r'<input[^>]+type="(?:text|password)"[^>]*>', details)
    assert len(inputs) == 1 and 'name="agreement_grant_token"' in inputs[0]
    pages = user.walk(f"s/{ECONOMIC}/grant_token/details/", {"agreement_grant_token": GRANT})
    assert any(f"{get_definition(ECONOMIC).name} is connected" in page for page in pages)
    sent = [request.headers for request in economic.requests]
    assert sent and all(headers["x-appsecrettoken"] == APP_SECRET for headers in sent)
    assert all(APP_SECRET not in page and OTHER_SECRET not in page for page in pages)
    assert APP_SECRET not in caplog.text and GRANT not in caplog.text
    connection = Connection.objects.get(system_id=ECONOMIC)
    assert APP_SECRET not in str(connection.config)


def test_the_proxy_and_the_health_check_send_the_partners_app(acme, economic, caplog):
    register(acme.partner)
    connection, token = connected(
        acme.partner,
        system=ECONOMIC,
        method="grant_token",
        config={},
        credentials={"agreement_grant_token": GRANT},
    )
    caplog.set_level(logging.DEBUG)
    proxied = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/proxy/customers")
    assert proxied.status_code == 200 and proxied.json()["collection"][0]["name"] == "Nordvik"
    assert economic.requests[-1].headers["x-appsecrettoken"] == APP_SECRET
    assert APP_SECRET not in proxied.content.decode()

    health_check_run(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE and connection.last_checked_at
    assert economic.requests[-1].path == "/self"
    assert economic.requests[-1].headers["x-appsecrettoken"] == APP_SECRET
    assert APP_SECRET not in caplog.text


def test_a_sync_read_sends_the_partners_app(acme, economic):
    register(acme.partner)
    connection, _ = connected(
        acme.partner,
        system=ECONOMIC,
        method="grant_token",
        config={},
        credentials={"agreement_grant_token": GRANT},
    )
    read = connection_read(connection=connection, path="customers", query="pagesize=1")
    assert read.status == 200
    assert economic.requests[-1].headers["x-appsecrettoken"] == APP_SECRET


def test_a_replaced_app_secret_is_used_from_the_next_call(acme, economic):
    register(acme.partner, "old-secret")
    _, token = connected(
        acme.partner,
        system=ECONOMIC,
        method="grant_token",
        config={},
        credentials={"agreement_grant_token": GRANT},
    )
    register(acme.partner)  # the partner rotated its App Secret Token
    proxied = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/proxy/customers")
    assert proxied.status_code == 200
    assert economic.requests[-1].headers["x-appsecrettoken"] == APP_SECRET


def test_a_connection_whose_partner_app_is_gone_says_so_and_sends_nothing(acme, economic):
    register(acme.partner)
    connection, token = connected(
        acme.partner,
        system=ECONOMIC,
        method="grant_token",
        config={},
        credentials={"agreement_grant_token": GRANT},
    )
    acme.partner.oauth_apps.all().delete()
    proxied = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/proxy/customers")
    assert proxied.status_code == 409 and proxied.json()["error"]["code"] == "app_missing"
    health_check_run(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE  # not the customer's doing
    assert economic.requests == []


# --- what a definition may put in app_headers -------------------------------------------------


def with_app_headers(headers: dict[str, Any]) -> list[str]:
    definition = get_definition(ECONOMIC)
    method = definition.methods[0]
    changed = replace(method, options={**method.options, "app_headers": headers})
    return definition_problems(replace(definition, methods=(changed,)))


def test_app_headers_use_only_the_partners_app():
    assert with_app_headers({"X-AppSecretToken": "{app_secret}"}) == []
    assert with_app_headers({"X-AppSecretToken": "{agreement_grant_token}"})
    assert with_app_headers({"X-Fixed": "v2"})  # belongs in extra_headers
    assert with_app_headers({"X-Broken": "{app_secret"})
    assert with_app_headers("X-AppSecretToken: {app_secret}")  # a table, not text


def test_extra_headers_cannot_reach_the_partners_app():
    definition = get_definition(ECONOMIC)
    method = definition.methods[0]
    options = {**method.options, "extra_headers": {"X-AppSecretToken": "{app_secret}"}}
    changed = replace(method, options=options)
    assert definition_problems(replace(definition, methods=(changed,)))


def test_an_operator_registers_the_app_key_in_the_admin_and_never_sees_it_again(acme, operator):
    admin = operator()
    add = "/admin/connections/oauthapp/add/"
    form = {"partner": acme.partner.pk, "system": ECONOMIC, "client_id": "public-token"}
    assert admin.post(add, form | {"client_secret": APP_SECRET}).status_code == 302
    app = acme.partner.oauth_apps.get()
    page = admin.get(f"/admin/connections/oauthapp/{app.pk}/change/").content.decode()
    assert APP_SECRET not in page and "public-token" in page
    refused = admin.post(add, form | {"system": "veeqo", "client_secret": "x"})
    assert (
        refused.status_code == 200
        and "has no method that uses your app" in refused.content.decode()
    )


def test_the_admin_says_who_is_offered_a_system_that_needs_the_partners_app(acme, operator):
    register(acme.partner)
    pk = System.objects.get(slug=ECONOMIC).pk
    html = operator().get(f"/admin/catalog/system/{pk}/change/").content.decode()
    assert "Agreement Grant Token: only partners that registered their app (Acme)" in html
