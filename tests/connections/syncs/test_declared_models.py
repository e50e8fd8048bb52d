"""A partner declares which models it reads (``PATCH /partner`` ``sync_models``): only those
sync, the end user is told on the first screen, and a model dropped is erased."""

from __future__ import annotations

import pytest
from django.test import Client

from connections.syncs.models import SyncedRecord, SyncState
from connections.syncs.schedule import syncs_schedule
from tests.conftest import error_of

pytestmark = pytest.mark.django_db


def declare(sandbox, models) -> object:
    partner_api = sandbox.partner_client
    return partner_api.patch(
        "/api/v1/partner", {"sync_models": models}, content_type="application/json"
    )


@pytest.fixture
def partner_api(acme, sandbox) -> Client:
    sandbox.partner_client = acme.client()
    return sandbox.partner_client


def test_the_partner_reads_every_model_until_it_declares_which(sandbox, partner_api):
    assert partner_api.get("/api/v1/partner").json()["sync_models"] is None
    answer = declare(sandbox, ["vendors", "purchase_orders", "vendors"])
    assert answer.status_code == 200
    assert answer.json()["sync_models"] == ["purchase_orders", "vendors"]  # defined order, once
    assert partner_api.get("/api/v1/partner").json()["name"] == "Acme"  # the rest kept

    syncs_schedule()
    assert sorted(SyncState.objects.values_list("model", flat=True)) == [
        "purchase_orders",
        "vendors",
    ]  # the Sandbox offers items too: not read
    refused = sandbox.sync("items")
    assert refused.status_code == 400 and "sync_models" in error_of(refused)["message"]


def test_an_unknown_model_is_a_clear_400_and_changes_nothing(sandbox, partner_api):
    answer = declare(sandbox, ["purchase_orders", "invoices"])
    assert answer.status_code == 400
    assert error_of(answer)["code"] == "invalid_sync_models"
    assert "'invoices'" in error_of(answer)["message"]
    assert partner_api.get("/api/v1/partner").json()["sync_models"] is None


def test_a_model_no_longer_read_stops_and_its_records_are_erased(sandbox, partner_api):
    sandbox.sync("purchase_orders")
    sandbox.sync("vendors")
    assert SyncedRecord.objects.filter(model="vendors").exists()

    assert declare(sandbox, ["purchase_orders"]).status_code == 200
    assert not SyncedRecord.objects.filter(model="vendors").exists()
    assert not SyncState.objects.filter(model="vendors").exists()
    assert SyncedRecord.objects.filter(model="purchase_orders").exists()  # still read
    syncs_schedule()
    assert not SyncState.objects.filter(model="vendors").exists()  # and not started again


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("en", "Acme will read your purchase orders and vendors."),
        ("de", "Acme liest Ihre Bestellungen und Lieferanten."),
    ],
)
def test_the_first_screen_says_what_the_partner_will_read(acme, end_user, locale, line):
    from connections.syncs.declared import partner_sync_models_set

    models = ["vendors", "purchase_orders"]
    partner_sync_models_set(partner=acme.partner, models=models, actor="test")
    page = end_user(locale=locale).get().content.decode()
    assert line in page
    assert "read and sync your data" not in page  # it says what, instead of the general line


def test_without_a_declaration_the_first_screen_makes_no_claim(end_user):
    page = end_user().get().content.decode()
    assert "will read your" not in page and "will connect to it to read and sync" in page
