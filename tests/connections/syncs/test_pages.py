"""Pagination styles and request templates, without a remote: what each asks for and where
the next page starts; and what the schema refuses of the newer keys."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.mappings import PaginationSpec, SyncSpec, sync_problems
from connections.syncs.pages import PagingError, next_position, page_query, render, template_values

SUITEQL = PaginationSpec(style="suiteql_offset", size=2, more_field="hasMore")
KEYSET = PaginationSpec(style="keyset", size=2, size_param="", key="pono", more_field="r.more")


def test_suiteql_offset_pages_end_when_the_answer_says_no_more_not_on_a_short_page():
    assert page_query(SUITEQL, None) == {"limit": "2", "offset": "0"}
    assert next_position(SUITEQL, 0, {"hasMore": True}, [{}, {}]) == 2
    assert next_position(SUITEQL, 2, {"hasMore": True}, [{}]) == 3  # short, yet more follow
    assert next_position(SUITEQL, 3, {"hasMore": False}, [{}, {}]) is None
    assert next_position(SUITEQL, 3, {"hasMore": True}, []) is None  # never the same page again


def test_keyset_pages_start_from_the_last_key_read():
    assert page_query(KEYSET, 5200) == {}  # the key goes in the body
    assert next_position(KEYSET, None, {"r": {"more": True}}, [{"pono": 1}, {"pono": 7}]) == 7
    assert next_position(KEYSET, 7, {"r": {"more": False}}, [{"pono": 7}, {"pono": 9}]) is None
    with pytest.raises(PagingError):  # a page of one key only: no way past it
        next_position(KEYSET, 7, {"r": {"more": True}}, [{"pono": 7}, {"pono": 7}])
    with pytest.raises(PagingError):
        next_position(KEYSET, None, {"r": {"more": True}}, [{"pono": 7}, {"other": 1}])


def test_templates_take_the_connections_settings_and_the_page():
    values = template_values(KEYSET, 5200, "2026-12-01T00:00:00Z", {"company_number": "3"})
    body = {"request": {"companyNumber": "{company_number:int}", "begin": "{after:int}"}}
    assert render(body, values) == {"request": {"companyNumber": 3, "begin": 5200}}
    first = template_values(KEYSET, None, None, {})
    assert render({"begin": "{after:int}", "size": "{size:int}"}, first) == {"begin": 0, "size": 2}
    assert render({"q": "x >= '{since}' {unknown}"}, values) == {
        "q": "x >= '2026-12-01T00:00:00Z' {unknown}"
    }
    assert render({"n": "{after:int}"}, {"after": "1001.0"}) == {"n": 1001}  # SX.e decimals


def spec(**changes) -> SyncSpec:
    base = SyncSpec(
        path="/x", id="id", modified_field="m", pagination=PaginationSpec(style="page")
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "POST"}, "a POST, and only a POST, has a body"),
        ({"body": {"q": "{since}"}}, "a POST, and only a POST, has a body"),
        ({"method": "PUT", "body": {"q": 1}}, "method: one of GET, POST"),
        ({"headers": {"Authorization": "x"}}, "'Authorization' is not sent"),
        ({"pagination": PaginationSpec(style="keyset")}, "keyset needs key and more_field"),
        ({"pagination": PaginationSpec(style="suiteql_offset")}, "more_field"),
    ],
)
def test_the_schema_refuses_requests_the_engine_cannot_send(changes, message):
    problems = sync_problems({"purchase_orders": spec(**changes)})
    assert any(message in problem for problem in problems), problems


def test_the_schema_takes_a_suiteql_and_a_keyset_listing():
    suiteql = spec(
        method="POST", body={"q": "{since}"}, headers={"Prefer": "transient"}, pagination=SUITEQL
    )
    assert sync_problems({"purchase_orders": suiteql, "vendors": spec(pagination=KEYSET)}) == []
