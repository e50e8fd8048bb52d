"""Infor SX.e purchase orders, vendors and products through the ION API Gateway, from its
definition alone, against the ION stand-in: POST list calls with the company in the body,
pages by key (each from the last key read) while the answer says more records follow, no
modified time (every run lists all; unchanged records write nothing), a refusal inside a 200
failing the run, deletions found by a full sync."""

from __future__ import annotations

import json

import pytest

from connections.models import SyncState
from connections.syncs.models import SyncStatus
from tests.connections.syncs.remote import RemoteSyncs
from tests.factories import connected
from tests.fakes.ion import API_HOST

pytestmark = pytest.mark.django_db
PO_LIST = "/SX/rest/sxapirestservice/sxapipogetlistofpurchaseordersv3"


def purchase_order(pono: int) -> dict:
    return {
        "pono": pono,
        "posuf": 0,
        "vendno": 1001 + pono % 3,
        "vendname": "Midwest Fasteners",
        "whse": "MAIN",
        "transtype": "PO",
        "stagecd": (0, 1, 2, 5, 7, 9)[pono % 6],
        "stagecdwords": "Ordered",
        "orderdt": "2026-11-02T00:00:00",
        "duedt": "2026-12-14T00:00:00",
        "reqshipdt": "2026-12-10T00:00:00",
        "totqtyord": 40,
    }


def po_line(pono: int, lineno: int) -> dict:
    return {
        "lineno": lineno,
        "shipprod": f"BOLT-{lineno:03}",
        "proddesc": f"Hex bolt {lineno} mm",
        "qtyord": 20.0,
        "qtyrcv": 0.0,
        "unit": "EA",
        "price": 0.125,
        "netamt": 2.5,
        "duedt": "2026-12-14T00:00:00",
        "statustype": "A",
    }


def vendor(vendno: int) -> dict:
    return {
        "vendno": vendno,
        "shipfm": 0,
        "name": f"Vendor {vendno}",
        "addr1": "400 Industrial Pkwy",
        "addr2": "",
        "city": "Omaha",
        "state": "NE",
        "zipCd": "68102",
        "ordBal": 0,
        "totalBal": 0,
        "sortFld": "",
    }


@pytest.fixture
def sxe(acme, fake_systems, django_capture_on_commit_callbacks):
    ion = fake_systems.ion
    file = ion.make_ionapi("ACME_TST")
    ion.sx_operators.add(file["saak"])
    ion.sx_purchase_orders[:] = [purchase_order(n) for n in range(5001, 5451)]
    ion.sx_po_lines.update({(n, 0): [po_line(n, 1), po_line(n, 2)] for n in range(5001, 5451)})
    ion.sx_vendors[:] = [vendor(n) for n in range(1001, 1004)]
    ion.sx_products[:] = [
        {
            "prod": f"BOLT-{n:03}",
            "descrip1": f"Hex bolt {n} mm",
            "descrip2": "Zinc",
            "prodCat": "F",
        }
        for n in range(1, 6)
    ]
    _, token = connected(
        acme.partner,
        system="infor-sxe",
        config={
            "company_number": "1",
            "tenant": "ACME_TST",
            "app_name": "Onramp",
            "ion_url": f"https://{API_HOST}",
            "token_url": f"{file['pu']}{file['ot']}",
        },
        credentials={
            "access_key": file["saak"],
            "secret_key": file["sask"],
            "client_id": file["ci"],
            "client_secret": file["cs"],
        },
    )
    return ion, RemoteSyncs(token, django_capture_on_commit_callbacks)


def sent(ion, path=PO_LIST):
    return [json.loads(r.body)["request"] for r in ion.requests if r.path.endswith(path)]


def test_purchase_orders_are_listed_page_by_page_from_the_last_number_read(sxe):
    ion, syncs = sxe
    run = syncs.sync("purchase_orders")
    assert (run.status, run.added, run.pages) == ("succeeded", 450, 10)
    starts = [(r["companyNumber"], r["beginningPurchaseOrderNumber"]) for r in sent(ion)]
    assert starts[:3] == [(1, 0), (1, 5050), (1, 5099)]  # each page from the last one's end
    assert all(r["recordLimit"] == 50 for r in sent(ion))
    order = syncs.record("purchase_orders", 5007)
    assert order["number"] == "5007" and order["vendor"] == {
        "id": "1001",
        "name": "Midwest Fasteners",
    }
    assert order["status"] == "received" and order["order_date"] == "2026-11-02"
    assert order["delivery_date"] == "2026-12-14" and order["modified_at"] is None


def test_every_run_lists_all_and_only_what_changed_is_written(sxe):
    ion, syncs = sxe
    syncs.sync("purchase_orders")
    ion.sx_purchase_orders[10]["stagecd"] = 7
    run = syncs.sync("purchase_orders")
    assert (run.mode, run.added, run.updated, run.deleted) == ("incremental", 0, 1, 0)
    assert syncs.record("purchase_orders", 5011)["status"] == "closed"


def test_a_deleted_order_is_found_by_a_full_sync(sxe):
    ion, syncs = sxe
    syncs.sync("purchase_orders")
    gone = ion.sx_purchase_orders.pop(0)
    assert syncs.sync("purchase_orders").deleted == 0
    run = syncs.sync("purchase_orders", "full")
    assert (run.mode, run.deleted, run.added, run.updated) == ("full", 1, 0, 0)
    assert syncs.record("purchase_orders", gone["pono"])["deleted"] is True


def test_a_429_waits_then_goes_on_from_its_page(sxe):
    ion, syncs = sxe
    ion.throttle = 1
    syncs.sync("purchase_orders")
    assert SyncState.objects.get(model="purchase_orders").status == SyncStatus.WAITING
    run = syncs.resume("purchase_orders")
    assert (run.status, run.added) == ("succeeded", 450)


def test_a_refusal_inside_a_200_fails_the_run_instead_of_finding_nothing(sxe):
    ion, syncs = sxe
    syncs.sync("purchase_orders")
    ion.sx_companies = {2}  # the company is gone, as SX.e says in a 200

    run = syncs.sync("purchase_orders", "full")

    assert (run.status, run.error_code, run.deleted) == ("failed", "remote_refused", 0)
    assert "Invalid Company Number: 1" in run.error_message
    assert syncs.record("purchase_orders", 5001)["deleted"] is False


def test_vendors_and_products(sxe):
    _, syncs = sxe
    assert syncs.sync("vendors").added == 3 and syncs.sync("items").added == 5
    assert syncs.record("vendors", 1002)["address"]["postal_code"] == "68102"
    bolt = syncs.record("items", "BOLT-002")
    assert (bolt["code"], bolt["name"], bolt["description"]) == (
        "BOLT-002",
        "Hex bolt 2 mm",
        "Zinc",
    )


def test_an_order_that_cannot_be_mapped_is_reported_and_the_rest_are_synced(sxe):
    ion, syncs = sxe
    ion.sx_purchase_orders[0]["stagecd"] = 8
    ion.sx_purchase_orders[1]["orderdt"] = "13/45/2026"
    run = syncs.sync("purchase_orders")
    assert (run.status, run.added, run.failed) == ("succeeded", 448, 2)
    assert {(e["id"], e["field"]) for e in run.errors} == {
        ("5001", "status"),
        ("5002", "order_date"),
    }


def test_each_orders_lines_come_from_a_call_of_its_own(sxe):
    ion, syncs = sxe
    syncs.sync("purchase_orders")
    asked = sent(ion, "/sxapipogetsinglepurchaseorderv2")
    assert {(r["purchaseOrderNumber"], r["purchaseOrderSuffix"]) for r in asked} == {
        (n, 0) for n in range(5001, 5451)
    }
    assert all(r["companyNumber"] == 1 and r["includeLineData"] is True for r in asked)
    lines = syncs.record("purchase_orders", 5007)["lines"]
    assert [line["line_number"] for line in lines] == [1, 2]
    assert lines[0] == {
        "line_number": 1,
        "item_code": "BOLT-001",
        "description": "Hex bolt 1 mm",
        "quantity": "20.0",
        "unit_of_measure": "EA",
        "unit_price": "0.125",
        "line_total": "2.5",
        "delivery_date": "2026-12-14",
    }


def test_a_changed_line_changes_its_order_and_a_refused_lines_call_fails_the_run(sxe):
    ion, syncs = sxe
    syncs.sync("purchase_orders")
    ion.sx_po_lines[(5011, 0)][1]["qtyord"] = 35.0
    run = syncs.sync("purchase_orders")
    assert (run.added, run.updated) == (0, 1)
    assert syncs.record("purchase_orders", 5011)["lines"][1]["quantity"] == "35.0"

    del ion.sx_po_lines[(5012, 0)]  # SX.e says so in a 200: not an order without lines
    run = syncs.sync("purchase_orders")
    assert (run.status, run.error_code) == ("failed", "remote_refused")
    assert "5012" in run.error_message
    assert len(syncs.record("purchase_orders", 5012)["lines"]) == 2
