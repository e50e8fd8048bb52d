"""Mintsoft ASNs (as purchase orders), suppliers and products, from its definition alone,
against the Mintsoft stand-in: numbered pages of bare arrays, SinceLastUpdated, an API key
bought with the user's login and sent as ms-apikey, deletions found by a full sync."""

from __future__ import annotations

import pytest

from connections.models import SyncState
from connections.syncs.models import SyncStatus
from tests.connections.syncs.remote import RemoteSyncs, days_ago, iso
from tests.factories import connected
from tests.fakes.mintsoft import MintsoftUser

pytestmark = pytest.mark.django_db


def stamp(days: float) -> str:
    return iso(days_ago(days))[:19] + ".253"  # .NET's local time, no offset


def asn(n: int, days: float) -> dict:
    return {
        "ID": n,
        "POReference": f"PO-{n}",
        "Supplier": "Acme Supplies",
        "ProductSupplierId": 12,
        "EstimatedDelivery": "2026-12-21T00:00:00",
        "ASNStatusId": 1,
        "ASNStatus": {"Name": "Awaiting Delivery", "ID": 1},
        "WarehouseId": 3,
        "ClientId": 7,
        "Items": [
            {
                "ID": 10 * n,
                "ProductId": 5,
                "SKU": "TSHIRT-M",
                "NAME": "T-shirt M",
                "QuantityExpected": 24,
            }
        ],
        "LastUpdated": stamp(days),
    }


def supplier(n: int) -> dict:
    return {
        "ID": n,
        "Name": f"Supplier {n}",
        "ContactEmail": f"orders{n}@example.co.uk",
        "ContactNumber": "0161 496 0000",
        "AddressLine1": "1 Mill Lane",
        "AddressLine2": None,
        "Town": "Manchester",
        "County": "Greater Manchester",
        "Postcode": "M1 1AA",
        "Country": {"Name": "United Kingdom", "Code": "GB", "ID": 1},
        "Currency": {"Name": "Pound Sterling", "Code": "GBP", "ID": 1},
        "Active": n != 2,
        "LastUpdated": stamp(400),  # suppliers are not filtered: any age is listed
    }


def product(n: int) -> dict:
    return {
        "ID": n,
        "SKU": f"SKU-{n}",
        "Name": f"Product {n}",
        "Description": None,
        "EAN": "5012345678900",
        "DisCont": n == 1,
        "CostPrice": 3.2,
        "Price": 9.99,
        "LastUpdated": stamp(n),
    }


@pytest.fixture
def mintsoft(acme, fake_systems, django_capture_on_commit_callbacks):
    fake = fake_systems.mintsoft
    fake.users["ops"] = MintsoftUser("pw")
    fake.asns[:] = [asn(n, days=n / 2) for n in range(1, 131)]
    fake.suppliers[:] = [supplier(n) for n in range(1, 4)]
    fake.products[:] = [product(n) for n in range(1, 5)]
    _, token = connected(
        acme.partner,
        system="mintsoft",
        config={"username": "ops"},
        credentials={"password": "pw"},
    )
    return fake, RemoteSyncs(token, django_capture_on_commit_callbacks)


def listings(fake, path="/api/ASN/List"):
    return [r for r in fake.requests if r.path == path]


def test_asns_sync_as_purchase_orders_in_numbered_pages(mintsoft):
    fake, syncs = mintsoft
    run = syncs.sync("purchase_orders")
    assert (run.status, run.added, run.pages) == ("succeeded", 130, 2)
    sent = listings(fake)
    assert [(r.query["PageNo"], r.query["Limit"]) for r in sent] == [
        (["1"], ["100"]),
        (["2"], ["100"]),
    ]
    assert all(r.headers["ms-apikey"] in fake.keys for r in sent)
    assert sent[0].query["IncludeASNItems"] == ["true"]
    order = syncs.record("purchase_orders", 7)
    assert order["number"] == "PO-7" and order["vendor"] == {"id": "12", "name": "Acme Supplies"}
    assert order["delivery_date"] == "2026-12-21"
    assert order["lines"][0]["item_code"] == "TSHIRT-M" and order["lines"][0]["quantity"] == "24"


def test_an_incremental_sync_asks_since_the_high_water_mark(mintsoft):
    fake, syncs = mintsoft
    syncs.sync("purchase_orders")
    fake.requests.clear()
    fake.asns[99].update(POReference="PO-CHANGED", LastUpdated=stamp(0))

    run = syncs.sync("purchase_orders")

    assert (run.mode, run.added, run.updated, run.pages) == ("incremental", 0, 1, 1)
    since = listings(fake)[0].query["SinceLastUpdated"][0]
    assert iso(days_ago(0.6)) < since < iso(days_ago(0.5))  # the newest less the overlap
    assert syncs.record("purchase_orders", 100)["number"] == "PO-CHANGED"


def test_a_deleted_asn_is_found_by_a_full_sync(mintsoft):
    fake, syncs = mintsoft
    syncs.sync("purchase_orders")
    gone = fake.asns.pop(0)
    assert syncs.sync("purchase_orders").deleted == 0

    run = syncs.sync("purchase_orders", "full")

    assert (run.mode, run.deleted, run.added, run.updated) == ("full", 1, 0, 0)
    assert syncs.record("purchase_orders", gone["ID"])["deleted"] is True


def test_a_429_waits_then_the_run_goes_on_from_its_page(mintsoft):
    fake, syncs = mintsoft
    syncs.sync("purchase_orders")
    fake.asns.append(asn(131, days=0))
    fake.asns[0].update(LastUpdated=stamp(0))
    fake.throttle = 1
    syncs.sync("purchase_orders", "full")
    assert SyncState.objects.get(model="purchase_orders").status == SyncStatus.WAITING

    run = syncs.resume("purchase_orders")

    assert (run.status, run.mode, run.added, run.updated) == ("succeeded", "full", 1, 1)


def test_suppliers_and_products(mintsoft):
    fake, syncs = mintsoft
    assert syncs.sync("vendors").added == 3
    assert "SinceLastUpdated" not in listings(fake, "/api/Product/Suppliers")[0].query
    north = syncs.record("vendors", 1)
    assert north["status"] == "active" and north["currency"] == "GBP"
    assert north["address"]["country"] == "GB" and north["address"]["postal_code"] == "M1 1AA"
    assert syncs.record("vendors", 2)["status"] == "inactive"
    assert syncs.sync("vendors").unchanged == 3  # listed again, nothing written

    assert syncs.sync("items").added == 4
    first = syncs.record("items", 1)
    assert (first["status"], first["cost"], first["price"]) == ("inactive", "3.2", "9.99")


def test_an_asn_that_cannot_be_mapped_is_reported_and_the_rest_are_synced(mintsoft):
    fake, syncs = mintsoft
    fake.asns[2]["EstimatedDelivery"] = "next week"
    fake.asns[3]["Items"][0]["QuantityExpected"] = "two dozen"

    run = syncs.sync("purchase_orders")

    assert (run.status, run.added, run.failed) == ("succeeded", 128, 2)
    assert {(e["id"], e["field"]) for e in run.errors} == {
        ("3", "delivery_date"),
        ("4", "lines[0].quantity"),
    }


def test_a_supplier_deleted_long_after_its_last_change_is_found_by_a_full_sync(mintsoft):
    fake, syncs = mintsoft
    syncs.sync("vendors")
    gone = fake.suppliers.pop(0)  # last changed 400 days ago: outside any history window
    run = syncs.sync("vendors", "full")
    assert (run.mode, run.deleted, run.unchanged) == ("full", 1, 2)
    assert syncs.record("vendors", gone["ID"])["deleted"] is True
