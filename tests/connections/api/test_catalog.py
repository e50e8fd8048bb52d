"""``GET /systems``: what a partner may offer, and why end users are not offered what waits
for the partner's own OAuth app (issue 18)."""

import pytest

pytestmark = pytest.mark.django_db


def systems(api) -> dict[str, dict]:
    response = api.get("/api/v1/systems")
    assert response.status_code == 200
    return {system["slug"]: system for system in response.json()["data"]}


def methods(system: dict) -> dict[str, dict]:
    return {method["id"]: method for method in system["methods"]}


def test_a_sign_in_without_the_partners_app_is_unavailable_and_says_why(api):
    found = systems(api)
    xero = found["xero"]
    assert xero["available"] is False and xero["unavailable_reason"] == "oauth_app_missing"
    assert methods(xero)["sign_in"]["unavailable_reason"] == "oauth_app_missing"
    sandbox = methods(found["sandbox-erp"])  # another method still works: the system is offered
    assert found["sandbox-erp"]["available"] is True
    assert (
        sandbox["password"]["available"] is True
        and sandbox["password"]["unavailable_reason"] is None
    )
    assert sandbox["sign_in"]["available"] is False
    assert found["infoplus"]["available"] is True


def test_registering_the_app_makes_it_available(api):
    body = {"client_id": "xero-client", "client_secret": "xero-secret"}
    put = api.put("/api/v1/oauth-apps/xero", body, content_type="application/json")
    assert put.status_code == 200
    xero = systems(api)["xero"]
    assert xero["available"] is True and xero["unavailable_reason"] is None
    assert methods(xero)["sign_in"] == methods(xero)["sign_in"] | {
        "available": True,
        "unavailable_reason": None,
        "oauth_app_registered": True,
    }


def test_the_fields_are_documented_in_the_openapi_schema(api):
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert {"available", "unavailable_reason"} <= set(schema["SystemOut"]["properties"])
    assert {"available", "unavailable_reason"} <= set(schema["MethodOut"]["properties"])
