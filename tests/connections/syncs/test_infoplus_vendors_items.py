"""Infoplus vendors and items, from its definition alone, against the Infoplus stand-in: the
v3.0 search endpoints (bare arrays, numbered pages, a modifyDate filter), deletions found by
a full sync, a 429 waited out, a record that cannot be mapped reported."""

from __future__ import annotations

import pytest

from connections.models import SyncState
from connections.syncs.models import SyncStatus
from tests.connections.syncs.remote import RemoteSyncs, days_ago, iso
from tests.factories import connected

pytestmark = pytest.mark.django_db


def vendor(n: int, days: float) -> dict:
    return {
        "id": n,
        "vendorNo": 100 + n,
        "lobId": 1,
        "name": f"Vendor {n}",
        "street": "1 Dock Road",
        "street2": None,
        "city": "Tulsa",
        "state": "OK",
        "zipCode": "74103",
        "country": "US",
        "phone": "918-555-0100",
        "terms": "NET30",
        "inactive": "No",
        "customFields": {"buyer": "Kim"},
        "modifyDate": iso(days_ago(days)),
    }


def item(n: int, days: float) -> dict:
    return {
        "id": n,
        "lobId": 1,
        "sku": f"SKU-{n}",
        "itemDescription": f"Widget {n}",
        "additionalDescription": "Blue",
        "upc": "012345678905",
        "unitCode": "EA",
        "status": "Active",
        "vendorPrice": 2.5,
        "sellPrice": 9.99,
        "onHandQuantity": 12,
        "modifyDate": iso(days_ago(days)),
    }


@pytest.fixture
def infoplus(acme, fake_systems, django_capture_on_commit_callbacks):
    fake = fake_systems.infoplus
    fake.sites["acme"] = {"key-1"}
    fake.vendors[:] = [vendor(n, days=n - 0.5) for n in range(1, 131)]
    fake.items[:] = [item(n, days=n / 2) for n in range(1, 121)]
    _, token = connected(acme.partner)
    return fake, RemoteSyncs(token, django_capture_on_commit_callbacks)


def searches(fake, resource):
    return [r.query for r in fake.requests if r.path.endswith(f"/{resource}/search")]


def test_vendors_sync_from_the_mapping_alone_in_the_history_window(infoplus):
    fake, syncs = infoplus
    run = syncs.sync("vendors")
    assert (run.status, run.added, run.pages) == ("succeeded", 90, 1)
    asked = searches(fake, "vendor")[0]
    assert asked["filter"][0].startswith("modifyDate ge '") and asked["sort"] == ["id"]
    first = syncs.record("vendors", 1)
    assert (first["name"], first["phone"], first["payment_terms"]) == (
        "Vendor 1",
        "918-555-0100",
        "NET30",
    )
    assert first["address"] == {
        "line1": "1 Dock Road",
        "line2": None,
        "city": "Tulsa",
        "region": "OK",
        "postal_code": "74103",
        "country": "US",
    }
    assert first["custom_fields"] == {"buyer": "Kim"}


def test_items_page_to_the_end_then_incremental_reads_only_what_changed(infoplus):
    fake, syncs = infoplus
    run = syncs.sync("items")
    assert (run.added, run.pages) == (120, 2)
    widget = syncs.record("items", 3)
    assert (widget["code"], widget["name"], widget["description"]) == ("SKU-3", "Widget 3", "Blue")
    assert (widget["cost"], widget["price"], widget["barcode"]) == ("2.5", "9.99", "012345678905")
    assert widget["unit_of_measure"] == "EA"
    fake.requests.clear()
    fake.items[4].update(sellPrice=10.49, modifyDate=iso(days_ago(0)))

    run = syncs.sync("items")

    assert (run.mode, run.added, run.updated) == ("incremental", 0, 1)
    since = searches(fake, "item")[0]["filter"][0].split("'")[1]
    assert since > iso(days_ago(1))  # from the high-water mark, not the window
    assert syncs.record("items", 5)["price"] == "10.49"


def test_a_vendor_deleted_in_infoplus_is_found_gone_by_a_full_sync(infoplus):
    fake, syncs = infoplus
    syncs.sync("vendors")
    gone = fake.vendors.pop(4)
    assert syncs.sync("vendors").deleted == 0  # incremental: an absence means nothing

    run = syncs.sync("vendors", "full")

    assert (run.mode, run.deleted, run.added, run.updated) == ("full", 1, 0, 0)
    assert syncs.record("vendors", gone["id"])["deleted"] is True
    assert len(syncs.listed("vendors")) == 89


def test_a_429_waits_then_the_item_sync_goes_on_from_its_page(infoplus):
    fake, syncs = infoplus
    fake.throttle = 1
    syncs.sync("items")
    assert SyncState.objects.get(model="items").status == SyncStatus.WAITING

    run = syncs.resume("items")

    assert (run.status, run.added) == ("succeeded", 120)


def test_an_item_that_cannot_be_mapped_is_reported_and_the_rest_are_synced(infoplus):
    fake, syncs = infoplus
    fake.items[1]["sellPrice"] = "ten dollars"

    run = syncs.sync("items")

    assert (run.status, run.added, run.failed) == ("succeeded", 119, 1), run.errors
    assert [(e["id"], e["field"]) for e in run.errors] == [("2", "price")]
