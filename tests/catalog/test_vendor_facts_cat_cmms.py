"""Sign-in twists of maintenance systems added by helper cat-cmms (issue 21), each run end to
end against a simulator that checks what the vendor documents (``tests/fakes/
vendors_cat_cmms.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connections.schemes.base import basic_header
from tests.factories import live_check
from tests.fakes.base import FakeSystem
from tests.fakes.vendors_cat_cmms import (
    FakeAssetEssentials,
    FakeHxgnEam,
    FakeUpKeep,
)

pytestmark = pytest.mark.django_db

FAKES = {
    "upkeep": FakeUpKeep,
    "asset_essentials": FakeAssetEssentials,
    "hxgn": FakeHxgnEam,
}


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


def test_upkeep_logs_in_with_a_form_and_sends_the_nested_session_token(vendors):
    vendors["upkeep"].users["ops@acme.test"] = "s3cret"
    creds = {"username": "ops@acme.test", "password": "s3cret"}
    assert live_check("upkeep", "session", {}, creds) is None
    login = vendors["upkeep"].requests[0]
    assert login.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert vendors["upkeep"].requests[1].headers["session-token"].startswith("r:")


def test_upkeep_refuses_a_wrong_password(vendors):
    vendors["upkeep"].users["ops@acme.test"] = "s3cret"
    creds = {"username": "ops@acme.test", "password": "wrong"}
    outcome = live_check("upkeep", "session", {}, creds)
    assert outcome is not None and outcome.code == "invalid_credentials"


def test_asset_essentials_sends_the_login_token_back_after_basic(vendors):
    vendors["asset_essentials"].users["api.user"] = "pw"
    config = {"organization": "AcmeCo"}
    creds = {"username": "api.user", "password": "pw"}
    assert live_check("asset-essentials", "session", config, creds) is None
    call = vendors["asset_essentials"].requests[1]
    assert call.path == "/AcmeCo/api/workorders"
    assert call.headers["authorization"].startswith("Basic ")


def test_asset_essentials_names_a_wrong_password(vendors):
    vendors["asset_essentials"].users["api.user"] = "pw"
    config = {"organization": "AcmeCo"}
    outcome = live_check(
        "asset-essentials", "session", config, {"username": "api.user", "password": "no"}
    )
    assert outcome is not None and outcome.code == "invalid_credentials"


def test_hxgn_eam_sends_tenant_and_organization_with_basic(vendors):
    vendors["hxgn"].basic = basic_header("API.USER", "pw")
    config = {"host": "us1.eam.hxgnsmartcloud.com", "tenant": "ACME_PRD", "organization": "ORG1"}
    creds = {"username": "API.USER", "password": "pw"}
    assert live_check("hxgn-eam", "basic", config, creds) is None


def test_hxgn_eam_reports_an_error_alert_inside_a_good_answer(vendors):
    vendors["hxgn"].basic = basic_header("API.USER", "pw")
    config = {"host": "us1.eam.hxgnsmartcloud.com", "tenant": "ACME_PRD", "organization": "ORG2"}
    creds = {"username": "API.USER", "password": "pw"}
    outcome = live_check("hxgn-eam", "basic", config, creds)
    assert outcome is not None and outcome.code == "check_refused"


def test_hxgn_eam_service_account_signs_in_on_a_tenant_that_uses_sso(vendors):
    vendors["hxgn"].basic = basic_header("API.USER", "pw")
    vendors["hxgn"].lgncon = True
    config = {"host": "us1.eam.hxgnsmartcloud.com", "tenant": "ACME_PRD", "organization": "ORG1"}
    creds = {"username": "API.USER", "password": "pw"}
    assert live_check("hxgn-eam", "basic", config, creds) is None
