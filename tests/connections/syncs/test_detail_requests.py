"""A second request for what a listing leaves out (``[syncs.<model>.lines.request]``): what
the schema refuses of it, and how its templates read the page's records. Against the systems'
stand-ins: ``test_netsuite.py`` (one query per page) and ``test_infor_sxe.py`` (one call per
record)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.mappings import DetailRequest, LinesSpec, PaginationSpec, SyncSpec, sync_problems
from connections.syncs.details import PLAIN_ID, _record_values
from connections.syncs.pages import render


def spec(source: str = "lines", **request) -> SyncSpec:
    base = SyncSpec(
        path="/x", id="id", modified_field="m", pagination=PaginationSpec(style="page")
    )
    lines = LinesSpec(source=source, fields={"quantity": "qty"}, request=DetailRequest(**request))
    return replace(base, lines=lines)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"path": "/l", "per": "page"}, "parent: the row field naming its record's id"),
        ({"path": "/l", "per": "order"}, "per: one of page, record"),
        ({"path": "/l", "per": "record", "method": "POST"}, "a POST, and only a POST"),
        ({"path": "/l", "per": "record", "headers": {"Cookie": "x"}}, "'Cookie' is not sent"),
        (
            {"path": "/l", "per": "record", "pagination": PaginationSpec(style="keyset")},
            "pagination.style: one of single",
        ),
        (
            {"path": "/l", "parent": "po", "pagination": PaginationSpec(style="suiteql_offset")},
            "more_field",
        ),
        ({"source": "a.b", "path": "/l", "per": "record"}, "a plain key"),
    ],
)
def test_the_schema_refuses_a_detail_request_the_engine_cannot_send(changes, message):
    source = changes.pop("source", "lines")
    problems = sync_problems({"purchase_orders": spec(source, **changes)})
    assert any(message in problem for problem in problems), problems


def test_the_schema_takes_a_request_per_page_and_one_per_record():
    per_page = spec(path="/l", parent="po", pagination=PaginationSpec(style="offset"))
    per_record = spec(path="/l", per="record", method="POST", body={"n": "{id}"})
    assert sync_problems({"purchase_orders": per_page, "vendors": per_record}) == []


def test_a_record_request_is_templated_from_its_record():
    values = _record_values({"pono": 5007, "posuf": 1, "lines": [], "ok": None}, "5007")
    body = {"request": {"n": "{record.pono:int}", "s": "{record.posuf:int}", "id": "{id}"}}
    assert render(body, values) == {"request": {"n": 5007, "s": 1, "id": "5007"}}
    assert "record.lines" not in values and "record.ok" not in values


@pytest.mark.parametrize("remote_id", ["1007", "PO-7", "a_b.c"])
def test_plain_ids_go_into_another_request(remote_id):
    assert PLAIN_ID.match(remote_id)


@pytest.mark.parametrize("remote_id", ["1) OR (1=1", "7'", "", "a b"])
def test_ids_that_could_change_another_request_are_kept_out(remote_id):
    assert not PLAIN_ID.match(remote_id)
