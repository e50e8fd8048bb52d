"""A sync whose worker is killed (SIGKILL, as a crash or the OOM killer) between pages: the
scheduler takes it over once its lease lapses, and it goes on from its checkpoint with no
record missed or written twice. Real processes: a Celery worker, beat, the Infoplus stand-in."""

from __future__ import annotations

import pytest
from django.db.models import Max
from django.test import Client

from connections.models import SyncedRecord, SyncRun, SyncState
from tests.connections.syncs.test_infoplus import purchase_order
from tests.factories import connected
from tests.stack import FAST, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SYNC = {"ONRAMP_SYNC_LEASE": "3", "ONRAMP_SYNC_HISTORY_DAYS": "200"}


def test_a_sync_whose_worker_is_killed_mid_run_is_resumed_without_duplicates_or_gaps(
    faults, acme, fake_systems, settings
):
    settings.ONRAMP_SYNC_HISTORY_DAYS = 200
    fake = fake_systems.infoplus
    fake.purchase_orders[:] = [purchase_order(n, days_ago=n) for n in range(1, 131)]
    fake.stall[2] = 60  # page 2 hangs: the worker is killed waiting for it
    _, token = connected(acme.partner)
    first = faults.worker(**FAST, **SYNC)
    answer = Client(headers={"Authorization": f"Bearer {token}"}).post(
        "/api/v1/syncs", {"model": "purchase_orders"}, content_type="application/json"
    )
    assert answer.status_code == 202

    def asked_for_page_two():
        return any(r.query.get("page") == ["2"] for r in fake.requests)

    wait_for(asked_for_page_two, timeout=60, what="the worker to ask for page 2")
    assert SyncedRecord.objects.count() == 100  # page 1 is written, with its checkpoint
    first.kill()
    fake.stall.clear()
    faults.worker(**FAST, **SYNC)
    faults.beat(**FAST, **SYNC, ONRAMP_SYNC_SCHEDULE_INTERVAL="1")

    def finished():
        state = SyncState.objects.select_related("run").get(model="purchase_orders")
        return state.run.status == "succeeded" and state.run

    run = wait_for(finished, timeout=90, what="the sync to be taken over and finish")
    # Infoplus's vendors and items are synced too (none here): only the orders' run counts.
    assert SyncRun.objects.filter(state__model="purchase_orders").count() == 1
    assert run.added == 130 and run.unchanged == 0
    orders = SyncedRecord.objects.filter(model="purchase_orders")
    assert orders.count() == 130 and orders.aggregate(last=Max("change_seq"))["last"] == 130
