"""Infoplus purchase orders, from its definition's mapping alone: a bare JSON array, numbered
pages, a filter expression on modifyDate, against the Infoplus stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from connections.models import SyncRun
from tests.factories import connected

pytestmark = pytest.mark.django_db


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def purchase_order(number: int, days_ago: float) -> dict:
    modified = iso(datetime.now(UTC) - timedelta(days=days_ago))
    return {
        "id": number,
        "poNo": f"{5000 + number}",
        "vendorId": 17,
        "orderDate": modified,
        "requestedDeliveryDate": "2026-12-24T00:00:00Z",
        "total": 99.5,
        "modifyDate": modified,
        "lineItems": [
            {
                "lineNo": 1,
                "sku": "WIDGET",
                "itemDescription": "Widget",
                "orderQuantity": 3,
                "unitCost": 33.1666,
                "requestedDeliveryDate": "2026-12-24T00:00:00Z",
            }
        ],
    }


@pytest.fixture
def infoplus(acme, fake_systems, django_capture_on_commit_callbacks):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    fake = fake_systems.infoplus
    fake.purchase_orders[:] = [purchase_order(n, days_ago=n - 0.5) for n in range(1, 131)]
    _, token = connected(acme.partner)
    api = Client(headers={"Authorization": f"Bearer {token}"})

    def sync(mode="incremental"):
        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post(
                "/api/v1/syncs",
                {"model": "purchase_orders", "mode": mode},
                content_type="application/json",
            )
        assert answer.status_code == 202, answer.content
        return SyncRun.objects.order_by("-started_at").first()

    return fake, api, sync


def searches(fake):
    return [r.query for r in fake.requests if r.path.endswith("/purchaseOrder/search")]


def test_infoplus_purchase_orders_sync_from_the_mapping_alone(infoplus):
    fake, api, sync = infoplus
    run = sync()
    assert run.status == "succeeded" and run.added == 90  # the 90-day window
    assert run.pages == 1 and [q["page"] for q in searches(fake)] == [["1"]]
    assert searches(fake)[0]["filter"][0].startswith("modifyDate ge '")
    answer = api.get("/api/v1/purchase-orders/7").json()
    assert answer["number"] == "5007" and answer["vendor"]["id"] == "17"
    assert answer["order_date"] == fake.purchase_orders[6]["modifyDate"][:10]
    assert answer["lines"][0]["quantity"] == "3" and answer["lines"][0]["unit_price"] == "33.1666"


def test_infoplus_pages_until_a_short_page_and_incremental_filters_by_modifydate(
    infoplus, settings
):
    fake, api, sync = infoplus
    settings.ONRAMP_SYNC_HISTORY_DAYS = 200
    run = sync()
    assert run.added == 130 and run.pages == 2
    fake.requests.clear()
    changed = fake.purchase_orders[100]
    changed.update(poNo="CHANGED", modifyDate=iso(datetime.now(UTC)))

    run = sync()

    assert (run.mode, run.added, run.updated) == ("incremental", 0, 1)
    since = searches(fake)[0]["filter"][0].split("'")[1]
    assert since > iso(datetime.now(UTC) - timedelta(days=2))  # from the high-water mark
    assert api.get(f"/api/v1/purchase-orders/{changed['id']}").json()["number"] == "CHANGED"


def test_an_order_deleted_in_infoplus_is_found_gone_by_a_full_sync(infoplus, settings):
    fake, api, sync = infoplus
    settings.ONRAMP_SYNC_HISTORY_DAYS = 200
    sync()
    gone = fake.purchase_orders.pop(3)
    assert sync().deleted == 0  # incremental: an absence means nothing
    assert api.get(f"/api/v1/purchase-orders/{gone['id']}").json()["deleted"] is False

    settings.ONRAMP_SYNC_HISTORY_DAYS = 90  # older orders are not listed, yet not gone
    run = sync("full")

    assert (run.mode, run.deleted, run.added, run.updated) == ("full", 1, 0, 0)
    assert api.get(f"/api/v1/purchase-orders/{gone['id']}").json()["deleted"] is True
    listed = api.get("/api/v1/purchase-orders", {"page_size": 500}).json()["data"]
    assert len(listed) == 129 and gone["id"] not in {int(item["id"]) for item in listed}
