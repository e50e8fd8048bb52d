"""The partner API over synced data: a change feed whose cursor holds while syncs write,
one record by id, the syncs' states, and clear 4xx answers for what is wrong."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog import sandbox_data
from tests.conftest import error_of

pytestmark = pytest.mark.django_db


def test_a_partner_paging_while_a_sync_writes_misses_nothing_and_repeats_no_change(sandbox):
    sandbox.sync()
    api = sandbox.api()
    first = api.get("/api/v1/purchase-orders", {"page_size": 40}).json()
    seen = [item["id"] for item in first["data"]]
    window = list(sandbox.in_window())
    # Meanwhile the customer edits two orders the partner has read and two it has not yet.
    read_already, not_yet = seen[:2], [i for i in window if i not in seen][:2]
    for order in sandbox.records.purchase_orders:
        if order["id"] in read_already + not_yet:
            sandbox_data.touch(order, state="CLOSED")
    sandbox.sync()

    rest = sandbox.feed(cursor=first["next_cursor"], page_size=40)
    ids = seen + [item["id"] for item in rest]
    assert sorted(set(ids)) == sorted(window)  # nothing missed
    # Each change comes once: the edited orders already read come again (as their change),
    # every other order exactly once.
    assert sorted(i for i in ids if ids.count(i) > 1) == sorted(read_already * 2)
    assert all(item["status"] == "closed" for item in rest if item["id"] in read_already)


def test_one_record_by_its_id_with_its_source_on_request(sandbox):
    sandbox.sync("vendors")
    vendor = next(iter(sandbox.in_window("vendors").values()))
    answer = sandbox.api().get(f"/api/v1/vendors/{vendor['id']}", {"raw": "true"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == vendor["name"] and body["raw"] == vendor
    assert body["modified_at"].startswith(vendor["updated_at"][:19])
    missing = sandbox.api().get("/api/v1/vendors/V9999")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 501}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"modified_after": "yesterday"}, "modified_after"),
    ],
)
def test_bad_list_parameters_are_a_clear_400(sandbox, params, field):
    answer = sandbox.api().get("/api/v1/purchase-orders", params)
    assert answer.status_code == 400
    assert (
        error_of(answer)["code"] == "invalid_request"
        and field in answer.json()["error"]["message"]
    )


def test_a_cursor_works_only_on_its_own_list(sandbox):
    sandbox.sync()
    cursor = sandbox.api().get("/api/v1/purchase-orders", {"page_size": 5}).json()["next_cursor"]
    for path, value in (("vendors", cursor), ("purchase-orders", cursor[:-2] + "xx")):
        answer = sandbox.api().get(f"/api/v1/{path}", {"cursor": value})
        assert answer.status_code == 400 and error_of(answer)["code"] == "invalid_cursor"


def test_starting_a_sync_validates_the_body_and_refuses_a_second_while_one_runs(sandbox):
    api = sandbox.api()
    post = lambda body: api.post("/api/v1/syncs", body, content_type="application/json")  # noqa: E731
    assert post({"model": "invoices"}).status_code == 400
    assert post({"model": "vendors", "mode": "sometimes"}).status_code == 400
    sandbox.records.throttle, sandbox.records.retry_after = 1, 60  # so this one waits
    queued = post({"model": "vendors", "mode": "full"})
    assert queued.status_code == 202 and queued.json()["status"] == "waiting"
    again = post({"model": "vendors"})
    assert again.status_code == 409 and error_of(again)["code"] == "sync_running"


def test_synced_data_needs_the_connection_token(sandbox, api):
    assert Client().get("/api/v1/purchase-orders").status_code == 401
    assert api.get("/api/v1/purchase-orders").status_code == 401  # a partner key is not one
    assert api.get("/api/v1/syncs").status_code == 401


def test_an_empty_list_before_any_sync(sandbox):
    answer = sandbox.api().get("/api/v1/work-orders", {"include_deleted": "true"})
    assert answer.status_code == 200 and answer.json() == {"data": [], "next_cursor": None}


def test_the_syncs_list_shows_every_model_the_system_syncs_before_any_run(sandbox):
    answer = sandbox.api().get("/api/v1/syncs")
    assert answer.status_code == 200
    assert [(s["model"], s["last_run"]) for s in answer.json()["data"]] == [
        ("purchase_orders", None),
        ("vendors", None),
        ("items", None),
    ]
