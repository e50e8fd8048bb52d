"""Syncs of the Sandbox ERP end to end: the Sandbox over real HTTP, signed as the proxy
signs, the engine run by its task, and what a partner then reads through the API."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from unittest.mock import ANY

import pytest
from django.db import connections
from django.db.models import Max
from django.utils import timezone

from catalog import sandbox_data
from connections.events import EventKind
from connections.models import Event, SyncedRecord, SyncRun, SyncState
from connections.services.webhooks import webhook_endpoint_create
from connections.syncs import runs
from connections.syncs.models import RunStatus, SyncStatus
from connections.syncs.schedule import syncs_schedule
from tests.stack import wait_for

pytestmark = pytest.mark.django_db


def overview(sandbox, model="purchase_orders"):
    answer = sandbox.api().get("/api/v1/syncs")
    assert answer.status_code == 200
    return next(item for item in answer.json()["data"] if item["model"] == model)


def test_an_initial_sync_reads_the_history_window_into_the_unified_model(sandbox):
    answer = sandbox.sync()
    assert answer.status_code == 202, answer.content
    expected = sandbox.in_window()
    assert 0 < len(expected) < len(sandbox.records.purchase_orders)  # some are older
    items = sandbox.feed(page_size=37)
    assert sorted(item["id"] for item in items) == sorted(expected)
    one = next(item for item in items if item["id"] == sorted(expected)[0])
    source = expected[one["id"]]
    assert one["number"] == source["number"] and one["vendor"] == source["vendor"]
    assert one["status"] in {"open", "partially_received", "received", "closed", "cancelled"}
    assert one["order_date"] == source["ordered_on"]
    assert [line["item_code"] for line in one["lines"]] == [li["sku"] for li in source["lines"]]
    assert Decimal(one["lines"][0]["quantity"]) == source["lines"][0]["qty"]
    assert Decimal(one["total"]) == Decimal(source["total"]) and one["raw"] is None
    state = overview(sandbox)
    assert state["status"] == "idle" and state["last_success_at"]
    assert state["last_run"]["mode"] == "initial" and state["last_run"]["added"] == len(expected)
    completed = Event.objects.get(kind=EventKind.SYNC_COMPLETED)
    assert completed.data["model"] == "purchase_orders"
    assert completed.data["added"] == len(expected)


def test_an_incremental_sync_reads_only_what_changed_and_unchanged_records_write_nothing(
    sandbox,
):
    sandbox.sync()
    first = Event.objects.get(kind=EventKind.SYNC_COMPLETED)
    last_seq = SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"]
    changed = [o for o in sandbox.records.purchase_orders if o["id"] in sandbox.in_window()][:2]
    for order in changed:
        sandbox_data.touch(order, state="CLOSED")
    new = dict(changed[0], id="po_new", number="PO-NEW", lines=[])
    sandbox_data.touch(new)
    sandbox.records.purchase_orders.append(new)

    sandbox.sync()

    run = SyncRun.objects.order_by("-started_at").first()
    assert run.mode == "incremental" and (run.added, run.updated, run.deleted) == (1, 2, 0)
    assert run.since > timezone.now() - timedelta(days=1)  # from the high-water mark
    # Only the three changes were written; the webhook's modified_after lists exactly them.
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == last_seq + 3
    second = Event.objects.filter(kind=EventKind.SYNC_COMPLETED).latest("created_at")
    assert second.data["modified_after"] > first.data["modified_after"]
    items = sandbox.feed(modified_after=second.data["modified_after"])
    assert sorted(i["id"] for i in items) == sorted(["po_new", *(o["id"] for o in changed)])
    assert {i["status"] for i in items if i["id"] != "po_new"} == {"closed"}


def test_a_full_resync_of_unchanged_data_writes_nothing(sandbox):
    sandbox.sync()
    last_seq = SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"]
    assert sandbox.sync(mode="full").status_code == 202
    run = SyncRun.objects.order_by("-started_at").first()
    assert run.mode == "full" and run.status == RunStatus.SUCCEEDED
    assert (run.added, run.updated, run.unchanged) == (0, 0, len(sandbox.in_window()))
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == last_seq


def test_deletions_tombstones_and_statuses(sandbox):
    sandbox.sync()
    sandbox.sync("vendors")
    order = next(o for o in sandbox.records.purchase_orders if o["id"] in sandbox.in_window())
    sandbox_data.touch(order, deleted=True)
    vendor = next(v for v in sandbox.records.vendors if v["id"] in sandbox.in_window("vendors"))
    sandbox_data.touch(vendor, status="deleted")

    sandbox.sync()
    sandbox.sync("vendors")

    assert order["id"] not in {i["id"] for i in sandbox.feed()}
    gone = sandbox.api().get(f"/api/v1/purchase-orders/{order['id']}").json()
    assert gone["deleted"] is True
    shown = {i["id"]: i for i in sandbox.feed(include_deleted="true")}
    assert shown[order["id"]]["deleted"] is True
    assert vendor["id"] not in {i["id"] for i in sandbox.feed("vendors")}
    assert overview(sandbox)["last_run"]["deleted"] == 1
    assert overview(sandbox, "vendors")["last_run"]["deleted"] == 1


def test_numbered_pages_are_followed_to_the_end(sandbox):
    """Vendors come in numbered pages of 50: a short page is the last."""
    template = sandbox.records.vendors[0]
    for n in range(100, 160):
        added = dict(template, id=f"V{n:04d}", name=f"Vendor {n}")
        sandbox_data.touch(added)
        sandbox.records.vendors.append(added)
    sandbox.sync("vendors")
    run = SyncRun.objects.get(state__model="vendors")
    expected = sandbox.in_window("vendors")
    assert run.pages == 2 and run.added == len(expected) > 50
    assert sorted(i["id"] for i in sandbox.feed("vendors", page_size=500)) == sorted(expected)


def test_items_come_in_offset_pages_with_their_stock_per_warehouse(sandbox):
    sandbox.sync("items")
    run = SyncRun.objects.get(state__model="items")
    expected = {i["sku"]: i for i in sandbox.records.items}
    in_window = [sku for sku, i in expected.items() if sku in _in_window(sandbox, "items")]
    assert run.added == len(in_window) and run.pages == len(in_window) // 25 + 1
    items = {i["id"]: i for i in sandbox.feed("items", page_size=500)}
    assert sorted(items) == sorted(in_window)
    item = items[in_window[0]]
    source = expected[item["id"]]
    assert item["code"] == source["sku"] and item["cost"] == source["unit_cost"]
    assert [level["location"] for level in item["inventory"]] == ["MAN", "LDS"]
    assert int(item["inventory"][0]["available"]) == source["stock"][0]["available"]


def _in_window(sandbox, model):
    since = sandbox_data.iso(timezone.now() - timedelta(days=90))
    return {i["sku"] for i in getattr(sandbox.records, model) if i["updated_at"] >= since}


def test_a_429_waits_for_retry_after_then_goes_on_from_its_page(sandbox):
    sandbox.records.throttle, sandbox.records.retry_after = 1, 30
    sandbox.sync()
    state = SyncState.objects.get(model="purchase_orders")
    assert state.status == SyncStatus.WAITING
    assert timezone.now() + timedelta(seconds=20) < state.next_run_at
    assert state.run.status == RunStatus.RUNNING and not SyncedRecord.objects.exists()
    assert (
        sandbox.api()
        .post("/api/v1/syncs", {"model": "purchase_orders"}, content_type="application/json")
        .status_code
        == 409
    )  # one run at a time

    SyncState.objects.filter(pk=state.pk).update(next_run_at=timezone.now())  # 30 s later
    with sandbox.run_callbacks(execute=True):
        syncs_schedule()

    state.refresh_from_db()
    assert state.status == SyncStatus.IDLE and state.run.status == RunStatus.SUCCEEDED
    assert SyncRun.objects.count() == 1 and state.run.added == len(sandbox.in_window())


def test_a_worker_killed_between_pages_is_resumed_without_duplicates_or_gaps(sandbox, monkeypatch):
    stored = []
    page_store = runs.page_store

    def killed_after_the_first_page(**kwargs):
        if stored:
            raise SystemExit("worker killed")  # page 2 read, never written
        stored.append(1)
        return page_store(**kwargs)

    monkeypatch.setattr(runs, "page_store", killed_after_the_first_page)
    with pytest.raises(SystemExit):
        sandbox.sync()
    monkeypatch.setattr(runs, "page_store", page_store)
    state = SyncState.objects.get(model="purchase_orders")
    assert state.status == SyncStatus.RUNNING and SyncedRecord.objects.count() == 100

    SyncState.objects.filter(pk=state.pk).update(claimed_until=timezone.now())  # lease lapsed
    with sandbox.run_callbacks(execute=True):
        assert syncs_schedule() == 1

    state.refresh_from_db()
    expected = sandbox.in_window()
    assert state.run.status == RunStatus.SUCCEEDED and SyncRun.objects.count() == 1
    assert state.run.added == len(expected) and state.run.unchanged == 0
    # Each record written once: the change numbers run 1..n without a gap.
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == len(expected)
    assert sorted(i["id"] for i in sandbox.feed()) == sorted(expected)


def test_a_revocation_mid_sync_stops_it_and_erases_the_synced_data(sandbox, acme, monkeypatch):
    page_read = runs.page_read
    reads = []

    def revoked_while_reading(*args, **kwargs):
        if reads:
            deleted = acme.client().delete(f"/api/v1/connections/{sandbox.connection.pk}")
            assert deleted.status_code in (200, 204)
        reads.append(1)
        return page_read(*args, **kwargs)

    monkeypatch.setattr(runs, "page_read", revoked_while_reading)
    sandbox.sync()

    assert len(reads) == 2
    assert not SyncedRecord.objects.exists() and not SyncState.objects.exists()
    assert sandbox.api().get("/api/v1/purchase-orders").status_code == 401
    assert not Event.objects.filter(kind=EventKind.SYNC_COMPLETED).exists()


def test_a_record_that_cannot_be_mapped_is_reported_and_the_run_goes_on(sandbox):
    bad_date, bad_state = (dict(sandbox.records.purchase_orders[0]) for _ in range(2))
    bad_date.update(id="po_bad_date", ordered_on="31/02/2026")
    bad_state.update(id="po_bad_state", state="ON_HOLD")
    for order in (bad_date, bad_state):
        sandbox_data.touch(order)
        sandbox.records.purchase_orders.append(order)

    sandbox.sync()

    last_run = overview(sandbox)["last_run"]
    assert last_run["status"] == "succeeded" and last_run["failed"] == 2
    assert {(e["id"], e["field"]) for e in last_run["errors"]} == {
        ("po_bad_date", "order_date"),
        ("po_bad_state", "status"),
    }
    assert len(sandbox.feed()) == len(sandbox.in_window()) - 2


def test_a_remote_failure_fails_the_run_and_says_why(sandbox, settings):
    sandbox.connection.config = {**sandbox.connection.config, "company": "closed"}
    sandbox.connection.save()
    sandbox.sync()
    state = overview(sandbox)
    assert state["status"] == "idle" and state["last_run"]["status"] == "failed"
    assert state["last_error"]["code"] == "remote_404"
    failed = Event.objects.get(kind=EventKind.SYNC_FAILED)
    assert failed.data["error"]["code"] == "remote_404"


def test_the_schedule_starts_new_connections_and_skips_inactive_ones(sandbox):
    with sandbox.run_callbacks(execute=True):
        syncs_schedule()  # creates the states, due within a minute
    assert set(SyncState.objects.values_list("model", flat=True)) == {
        "purchase_orders",
        "vendors",
        "items",
    }
    SyncState.objects.update(next_run_at=timezone.now())
    with sandbox.run_callbacks(execute=True):
        assert syncs_schedule() == 3
    states = SyncState.objects.select_related("run")
    assert [s.run.status for s in states] == [RunStatus.SUCCEEDED] * 3
    next_runs = SyncState.objects.values_list("next_run_at", flat=True)
    assert all(n > timezone.now() + timedelta(minutes=10) for n in next_runs)
    SyncState.objects.update(next_run_at=timezone.now())
    type(sandbox.connection).objects.filter(pk=sandbox.connection.pk).update(status="invalid")
    assert syncs_schedule() == 0  # paused while invalid


def test_the_partner_receives_sync_completed_and_sync_failed_signed(sandbox, acme):
    _, secret = webhook_endpoint_create(
        partner=acme.partner,
        url="https://hooks.acme.test/onramp",
        events=["sync.completed", "sync.failed"],
        actor="test",
    )
    sandbox.fakes.receiver.secrets.append(secret)
    sandbox.sync("vendors")
    sandbox.connection.config = {**sandbox.connection.config, "company": "closed"}
    sandbox.connection.save()
    sandbox.sync("vendors")

    completed, failed = wait_for(
        lambda: len(sandbox.fakes.receiver.accepted) == 2 and (sandbox.fakes.receiver.accepted)
    )
    assert completed["type"] == "sync.completed" and failed["type"] == "sync.failed"
    assert completed["data"]["connection_id"] == sandbox.connection.pk
    assert completed["data"]["model"] == "vendors" and completed["data"]["mode"] == "initial"
    assert completed["data"]["added"] == len(sandbox.in_window("vendors"))
    assert completed["data"]["modified_after"]
    assert failed["data"]["error"] == {"code": "remote_404", "message": ANY}


def test_two_workers_given_the_same_sync_run_it_once(sandbox, settings):
    if not settings.USING_POSTGRES:
        pytest.skip("races between connections need PostgreSQL")
    state = SyncState.objects.create(
        connection=sandbox.connection, model="purchase_orders", status=SyncStatus.QUEUED
    )
    barrier, errors = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait(10)
            runs.sync_run(state_id=state.pk)
        except Exception as exc:  # handed to the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    assert errors == []
    run = SyncRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and run.added == len(sandbox.in_window())
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == run.added


def test_a_worker_whose_lease_was_taken_over_writes_nothing_more(sandbox, monkeypatch):
    """A worker slow enough to lose its lease (not dead) finds another has claimed the run,
    and leaves it alone: it writes nothing, and the run goes on under the new claim."""
    page_read = runs.page_read

    def slow_then_overtaken(connection, spec, model, state):
        page = page_read(connection, spec, model, state)
        if not SyncedRecord.objects.exists():  # its lease lapsed; another worker claims it
            SyncState.objects.filter(pk=state.pk).update(claimed_until=timezone.now())
            assert runs._claim(state.pk) is not None
        return page

    monkeypatch.setattr(runs, "page_read", slow_then_overtaken)
    sandbox.sync()
    monkeypatch.setattr(runs, "page_read", page_read)
    state = SyncState.objects.get(model="purchase_orders")
    assert state.status == SyncStatus.RUNNING and not SyncedRecord.objects.exists()

    SyncState.objects.filter(pk=state.pk).update(claimed_until=timezone.now())  # that one died
    with sandbox.run_callbacks(execute=True):
        syncs_schedule()

    state = SyncState.objects.select_related("run").get(pk=state.pk)
    assert state.status == SyncStatus.IDLE and state.run.status == RunStatus.SUCCEEDED
    assert state.run.added == len(sandbox.in_window()) and SyncRun.objects.count() == 1
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == state.run.added
