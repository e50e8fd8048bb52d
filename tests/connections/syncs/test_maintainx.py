"""MaintainX work orders, from its definition's mapping alone, against its stand-in: cursor
pages without a modified filter (every run lists all; unchanged ones write nothing), and
deletions found by a full sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from connections.models import SyncRun, SyncState
from connections.syncs.models import SyncStatus
from tests.connections.syncs.remote import RemoteSyncs
from tests.factories import connected

pytestmark = pytest.mark.django_db
STATUSES = ("OPEN", "IN_PROGRESS", "ON_HOLD", "DONE", "CLOSED")


def work_order(number: int) -> dict:
    updated = datetime.now(UTC) - timedelta(days=number / 4)
    return {
        "id": number,
        "title": f"Inspect pump {number}",
        "description": "Check the seal for leaks.",
        "status": STATUSES[number % len(STATUSES)],
        "priority": "HIGH" if number % 3 else "LOW",
        "assetId": 8900 + number,
        "assignees": [{"type": "USER", "id": 4521}],
        "dueDate": "2026-12-21T17:00:00Z",
        "completedAt": None,
        "updatedAt": updated.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


@pytest.fixture
def maintainx(acme, fake_systems, django_capture_on_commit_callbacks):
    fake = fake_systems.maintainx
    fake.keys.add("mx-key")
    fake.work_orders[:] = [work_order(n) for n in range(1, 151)]
    _, token = connected(
        acme.partner, system="maintainx", config={}, credentials={"api_key": "mx-key"}
    )
    api = Client(headers={"Authorization": f"Bearer {token}"})

    def sync(mode="incremental"):
        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post(
                "/api/v1/syncs",
                {"model": "work_orders", "mode": mode},
                content_type="application/json",
            )
        assert answer.status_code == 202, answer.content
        return SyncRun.objects.order_by("-started_at").first()

    return fake, api, sync


def test_maintainx_work_orders_sync_into_the_unified_model(maintainx):
    _, api, sync = maintainx
    run = sync()
    assert (run.status, run.added, run.pages) == ("succeeded", 150, 2)
    order = api.get("/api/v1/work-orders/7").json()
    assert order["title"] == "Inspect pump 7" and order["status"] == "on_hold"
    assert order["priority"] == "high" and order["asset"] == {"id": "8907", "name": None}
    assert order["assignee"] == "4521" and order["due_at"] == "2026-12-21T17:00:00Z"
    listed = api.get("/api/v1/work-orders", {"page_size": 500}).json()["data"]
    assert len(listed) == 150


def test_maintainx_changes_and_deletions(maintainx):
    fake, api, sync = maintainx
    sync()
    fake.work_orders[0].update(status="CLOSED", updatedAt="2026-12-08T00:00:00.000Z")
    gone = fake.work_orders.pop()
    run = sync()
    assert (run.added, run.updated, run.unchanged, run.deleted) == (0, 1, 148, 0)
    assert api.get("/api/v1/work-orders/1").json()["status"] == "closed"

    run = sync("full")

    assert (run.mode, run.deleted) == ("full", 1)
    assert api.get(f"/api/v1/work-orders/{gone['id']}").json()["deleted"] is True


def test_a_429_waits_then_the_run_goes_on_from_its_page(
    maintainx, django_capture_on_commit_callbacks
):
    fake, _, sync = maintainx
    fake.throttle = 1
    sync()
    assert SyncState.objects.get(model="work_orders").status == SyncStatus.WAITING

    run = RemoteSyncs("", django_capture_on_commit_callbacks).resume("work_orders")

    assert (run.status, run.added, run.pages) == ("succeeded", 150, 2)


def test_a_work_order_that_cannot_be_mapped_is_reported_and_the_rest_are_synced(maintainx):
    fake, api, sync = maintainx
    fake.work_orders[2]["status"] = "ARCHIVED"
    fake.work_orders[3]["dueDate"] = "tomorrow"

    run = sync()

    assert (run.status, run.added, run.failed) == ("succeeded", 148, 2)
    assert {(e["id"], e["field"]) for e in run.errors} == {("3", "status"), ("4", "due_at")}
    assert api.get("/api/v1/work-orders/3").status_code == 404
