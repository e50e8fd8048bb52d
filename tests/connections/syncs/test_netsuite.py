"""NetSuite purchase orders, vendors and items through SuiteQL, from its definition alone,
against the NetSuite stand-in: POST bodies with the modified filter in the query, offset pages
that say hasMore, every request signed (TBA: the stand-in recomputes each signature, query
parameters included), deletions found by a full sync."""

from __future__ import annotations

import json

import pytest

from connections.models import SyncState
from connections.syncs.models import SyncStatus
from tests.connections.schemes.test_netsuite import ACCOUNT as M2M_ACCOUNT
from tests.connections.schemes.test_netsuite import m2m_integration
from tests.connections.syncs.remote import RemoteSyncs, days_ago, iso
from tests.factories import connected
from tests.fakes.netsuite import SUITEQL_PATH

pytestmark = pytest.mark.django_db
ACCOUNT = "1234567_SB1"


def stamp(days: float) -> str:
    return iso(days_ago(days))[:19]  # as TO_CHAR gives it: no zone


def purchase_order(n: int, days: float) -> dict:
    return {
        "id": str(n),
        "tranid": f"PO{1000 + n}",
        "entity": "88",
        "vendorname": "Northwind Traders",
        "status": "BDFH"[n % 4],
        "currency": "USD",
        "trandate": stamp(days)[:10],
        "duedate": "2026-12-24",
        "terms": "Net 30",
        "foreigntotal": 1250.5,
        "lastmodified": stamp(days),
    }


def po_line(n: int, line: int) -> dict:
    return {
        "id": str(line),
        "transaction": str(n),
        "linesequencenumber": line,
        "item": f"SKU-{line}",
        "memo": f"Widget {line}",
        "quantity": 4,
        "units": "Each",
        "rate": "12.5",
        "foreignamount": "50",
        "expectedreceiptdate": "2026-12-20",
    }


def vendor(n: int) -> dict:
    return {
        "id": str(n),
        "entityid": f"V{n}",
        "companyname": f"Supplier {n}",
        "email": f"ap{n}@example.com",
        "phone": None,
        "isinactive": "T" if n == 3 else "F",
        "currency": "EUR",
        "terms": None,
        "lastmodified": stamp(n),
    }


def item(n: int) -> dict:
    return {
        "id": str(n),
        "itemid": f"SKU-{n}",
        "displayname": f"Widget {n}",
        "purchasedescription": "A widget",
        "isinactive": "F",
        "upccode": None,
        "cost": "2.75",
        "lastmodified": stamp(n),
    }


@pytest.fixture
def netsuite(acme, fake_systems, django_capture_on_commit_callbacks):
    fake = fake_systems.netsuite
    account = fake.add_account(ACCOUNT)
    integration = account.add_integration(m2m=False, tba=True)
    grant = account.add_token(integration)
    account.tables["transaction"] = [purchase_order(n, days=n / 10) for n in range(1, 601)]
    account.tables["transactionline"] = [
        po_line(n, line) for n in range(1, 601) for line in (1, 2, 3)
    ]
    account.tables["inventoryitemlocations"] = [
        {
            "item": "1",
            "location": "Main",
            "quantityonhand": 40,
            "quantityavailable": 32,
            "quantityonorder": 10,
        },
        {
            "item": "1",
            "location": "East",
            "quantityonhand": 5,
            "quantityavailable": 5,
            "quantityonorder": None,
        },
        {
            "item": "3",
            "location": "Main",
            "quantityonhand": 0,
            "quantityavailable": 0,
            "quantityonorder": 24,
        },
    ]
    account.tables["vendor"] = [vendor(n) for n in range(1, 6)]
    account.tables["item"] = [item(n) for n in range(1, 4)]
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
    return fake, account, RemoteSyncs(token, django_capture_on_commit_callbacks)


def queries(fake, lines=False):
    """The listing's SuiteQL queries (or, ``lines``, those for the orders' lines)."""
    sent = [r for r in fake.requests if r.path == SUITEQL_PATH]
    return [r for r in sent if ("FROM transactionline" in json.loads(r.body)["q"]) == lines]


def test_purchase_orders_come_through_suiteql_in_offset_pages(netsuite):
    fake, _, syncs = netsuite
    run = syncs.sync("purchase_orders")
    assert (run.status, run.added, run.pages) == ("succeeded", 600, 2)
    sent = queries(fake)
    assert [(r.query["limit"], r.query["offset"]) for r in sent] == [
        (["500"], ["0"]),
        (["500"], ["500"]),
    ]
    assert all(r.headers["prefer"] == "transient" for r in sent)
    assert all(r.headers["authorization"].startswith("OAuth ") for r in sent)
    assert "FROM transaction t" in json.loads(sent[0].body)["q"]
    order = syncs.record("purchase_orders", 7)
    assert order["number"] == "PO1007" and order["vendor"] == {
        "id": "88",
        "name": "Northwind Traders",
    }
    assert order["status"] == "closed" and order["currency"] == "USD"
    assert order["total"] == "1250.5" and order["required_date"] == "2026-12-24"
    assert order["payment_terms"] == "Net 30"


def test_an_incremental_sync_asks_only_for_what_changed_since_the_high_water_mark(netsuite):
    fake, account, syncs = netsuite
    syncs.sync("purchase_orders")
    fake.requests.clear()
    changed = account.tables["transaction"][400]
    changed.update(tranid="PO-CHANGED", lastmodified=stamp(0))

    run = syncs.sync("purchase_orders")

    assert (run.mode, run.added, run.updated, run.pages) == ("incremental", 0, 1, 1)
    q = json.loads(queries(fake)[0].body)["q"]
    since = q.split("TO_TIMESTAMP('")[1][:20]
    # The newest order was modified 0.1 day ago: the filter starts there less the overlap.
    assert iso(days_ago(0.2)) < since < iso(days_ago(0.1))
    assert syncs.record("purchase_orders", changed["id"])["number"] == "PO-CHANGED"


def test_a_deleted_order_is_found_by_a_full_sync(netsuite):
    _, account, syncs = netsuite
    syncs.sync("purchase_orders")
    gone = account.tables["transaction"].pop(10)
    assert syncs.sync("purchase_orders").deleted == 0  # an absence alone means nothing

    run = syncs.sync("purchase_orders", "full")

    assert (run.mode, run.deleted, run.added, run.updated) == ("full", 1, 0, 0)
    assert syncs.record("purchase_orders", gone["id"])["deleted"] is True
    assert syncs.sync("purchase_orders", "full").deleted == 0


def test_a_429_waits_for_retry_after_then_the_run_goes_on_from_its_page(netsuite):
    fake, _, syncs = netsuite
    fake.throttle = 1
    syncs.sync("purchase_orders")
    state = SyncState.objects.get(model="purchase_orders")
    assert state.status == SyncStatus.WAITING and state.run.added == 0

    run = syncs.resume("purchase_orders")

    assert (run.status, run.added) == ("succeeded", 600)
    assert len(queries(fake)) == 3  # the refused page, then both pages once


def test_vendors_and_items_map_their_own_columns(netsuite):
    _, _, syncs = netsuite
    assert syncs.sync("vendors").added == 5 and syncs.sync("items").added == 3
    assert syncs.record("vendors", 3)["status"] == "inactive"
    assert syncs.record("vendors", 2)["name"] == "Supplier 2"
    widget = syncs.record("items", 1)
    assert (widget["code"], widget["name"], widget["cost"]) == ("SKU-1", "Widget 1", "2.75")


def test_an_order_that_cannot_be_mapped_is_reported_and_the_rest_are_synced(netsuite):
    _, account, syncs = netsuite
    account.tables["transaction"][4]["foreigntotal"] = "n/a"
    account.tables["transaction"][5]["status"] = "Z"

    run = syncs.sync("purchase_orders")

    assert (run.status, run.added, run.failed) == ("succeeded", 598, 2)
    assert {(e["id"], e["field"]) for e in run.errors} == {("5", "total"), ("6", "status")}


def test_an_m2m_connection_syncs_with_one_bearer_token_for_every_page(
    acme, fake_systems, django_capture_on_commit_callbacks
):
    fake = fake_systems.netsuite
    account = fake.add_account(M2M_ACCOUNT)
    values, _ = m2m_integration(account)
    account.tables["transaction"] = [purchase_order(n, days=n / 10) for n in range(1, 601)]
    config = {k: values[k] for k in ("client_id", "certificate_id")} | {"account": M2M_ACCOUNT}
    _, token = connected(
        acme.partner,
        system="netsuite",
        config=config,
        credentials={"private_key": values["private_key"]},
    )
    syncs = RemoteSyncs(token, django_capture_on_commit_callbacks)

    assert syncs.sync("purchase_orders").added == 600

    assert all(r.headers["authorization"].startswith("Bearer ") for r in queries(fake))
    bought = [r for r in fake.requests if r.path.endswith("/token")]
    assert len(queries(fake)) == 2 and len(bought) == 1  # kept across the run's pages


def test_the_lines_of_a_page_of_orders_come_from_one_query_on_transactionline(netsuite):
    fake, _, syncs = netsuite
    syncs.sync("purchase_orders")
    asked = queries(fake, lines=True)
    assert [(r.query["limit"], r.query["offset"]) for r in asked] == [
        (["1000"], ["0"]),  # the first page's 500 orders: 1,500 lines in two answers
        (["1000"], ["1000"]),
        (["1000"], ["0"]),  # the second page's 100 orders
    ]
    first = json.loads(asked[0].body)["q"]
    assert "transaction IN (1,2,3," in first and ",500)" in first
    assert all(r.headers["authorization"].startswith("OAuth ") for r in asked)
    lines = syncs.record("purchase_orders", 7)["lines"]
    assert [line["line_number"] for line in lines] == [1, 2, 3]
    assert lines[2] == {
        "line_number": 3,
        "item_code": "SKU-3",
        "description": "Widget 3",
        "quantity": "4",
        "unit_of_measure": "Each",
        "unit_price": "12.5",
        "line_total": "50",
        "delivery_date": "2026-12-20",
    }
    raw = syncs.api().get("/api/v1/purchase-orders/7", {"raw": "true"}).json()["raw"]
    assert len(raw["lines"]) == 3  # the source record holds its lines


def test_an_order_changed_with_its_lines_is_read_again_with_them(netsuite):
    fake, account, syncs = netsuite
    syncs.sync("purchase_orders")
    account.tables["transaction"][4]["lastmodified"] = stamp(0)
    account.tables["transactionline"][14]["quantity"] = 6  # order 5's third line
    fake.requests.clear()

    run = syncs.sync("purchase_orders")

    assert (run.added, run.updated) == (0, 1)
    # Only the orders listed (5, and 1 inside the overlap) have their lines asked for.
    assert "IN (1,5)" in json.loads(queries(fake, lines=True)[0].body)["q"]
    assert syncs.record("purchase_orders", 5)["lines"][2]["quantity"] == "6"


def test_items_come_with_their_stock_per_location_from_a_second_query(netsuite):
    fake, _, syncs = netsuite
    assert syncs.sync("items").added == 3
    asked = [json.loads(r.body)["q"] for r in queries(fake)]
    stock = [q for q in asked if "FROM inventoryitemlocations" in q]
    assert len(stock) == 1 and "il.item IN (1,2,3)" in stock[0]
    assert syncs.record("items", 1)["inventory"] == [
        {"location": "Main", "on_hand": "40", "available": "32", "on_order": "10"},
        {"location": "East", "on_hand": "5", "available": "5", "on_order": None},
    ]
    assert syncs.record("items", 2)["inventory"] == []  # not stocked anywhere
    assert syncs.record("items", 3)["inventory"][0]["on_order"] == "24"


def test_a_429_on_the_lines_query_waits_then_reads_that_page_again_whole(netsuite):
    fake, _, syncs = netsuite
    fake.throttle, fake.throttle_table = 1, "transactionline"
    syncs.sync("purchase_orders")
    state = SyncState.objects.get(model="purchase_orders")
    assert state.status == SyncStatus.WAITING and state.run.added == 0  # nothing half-written

    run = syncs.resume("purchase_orders")

    assert (run.status, run.added, run.pages) == ("succeeded", 600, 2)
    assert len(syncs.record("purchase_orders", 1)["lines"]) == 3
