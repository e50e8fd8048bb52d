"""Operators see each connection's syncs on its page (state, last success, runs with their
counts and errors) and can start one; a view-only operator cannot (the buttons' own test)."""

from __future__ import annotations

import pytest

from connections.syncs.models import SyncRun
from tests.connections.admin.test_buttons import change_url, press

pytestmark = pytest.mark.django_db


def test_an_operator_starts_a_sync_and_reads_its_runs_on_the_connections_page(sandbox, operator):
    admin = operator()
    assert "No syncs yet" in admin.get(change_url(sandbox.connection)).content.decode()
    with sandbox.run_callbacks(execute=True):
        done = press(admin, sandbox.connection, "sync_now")
    assert done.status_code == 302
    runs = SyncRun.objects.filter(state__connection=sandbox.connection)
    assert sorted(runs.values_list("state__model", flat=True)) == [
        "items",
        "purchase_orders",
        "vendors",
    ]
    page = admin.get(change_url(sandbox.connection)).content.decode()
    orders = runs.get(state__model="purchase_orders")
    assert orders.added == len(sandbox.in_window()) > 0
    assert "<strong>purchase_orders</strong>: Idle; last success" in page
    assert f"<td>{orders.added}</td>" in page and "Succeeded" in page


def test_a_second_sync_while_one_runs_is_skipped_with_a_reason(sandbox, operator):
    admin = operator()
    sandbox.records.throttle, sandbox.records.retry_after = 1, 60  # the first one waits
    sandbox.sync("vendors")
    with sandbox.run_callbacks(execute=True):
        answer = press(admin, sandbox.connection, "sync_now")
    page = admin.get(answer.url).content.decode()
    assert "vendors: A sync of this model is already running." in page
