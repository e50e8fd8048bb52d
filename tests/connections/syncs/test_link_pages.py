"""The ``link`` pagination style: the next page is the answer's ``Link: <…>; rel="next"``
(RFC 8288), as GitHub, Shopify and many REST APIs page. None of the seed systems pages this
way, so the engine is run here against a stand-in that does, for a MaintainX connection
whose work-order listing is declared with the link style."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from catalog.mappings import PaginationSpec
from connections.syncs import runs
from connections.syncs.pages import PagingError, next_position, page_query
from tests.connections.syncs.remote import RemoteSyncs, days_ago, iso
from tests.factories import connected
from tests.fakes.base import FakeSystem, Reply, Request

pytestmark = pytest.mark.django_db
LINK = PaginationSpec(style="link", size=40, size_param="limit")


class LinkPager(FakeSystem):
    """Work orders in pages of ``limit``, each answer linking the next (and the first) by an
    opaque ``page_info``; checks the Bearer key as MaintainX does."""

    hosts = ("api.getmaintainx.com",)

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.next_path = "/v1/workorders"

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != "Bearer mx-key":
            return Reply(401, {"errors": [{"error": "Unauthorized"}]})
        limit = int(request.query.get("limit", ["50"])[0])
        start = int(request.query.get("page_info", ["p0"])[0][1:])
        page = self.rows[start : start + limit]
        host = "https://api.getmaintainx.com"
        links = [f'<{host}/v1/workorders?limit={limit}>; rel="first"']
        if start + limit < len(self.rows):
            target = f"{host}{self.next_path}?limit={limit}&page_info=p{start + limit}"
            links.append(f'<{target}>; rel="next"')
        return Reply(200, {"workOrders": page}, {"Link": ", ".join(links)})


@pytest.fixture
def pager(acme, fake_systems, settings, monkeypatch, django_capture_on_commit_callbacks):
    fake = LinkPager().start()
    fake.rows = [
        {"id": n, "title": f"Job {n}", "updatedAt": iso(days_ago(n / 10))} for n in range(1, 101)
    ]
    settings.ONRAMP_OUTBOUND_HOST_MAP = (
        f"api.getmaintainx.com={fake.url}," + fake_systems.host_map()
    )
    original = runs.sync_spec

    def link_paged(connection, model):
        spec = original(connection, model)
        return replace(spec, pagination=LINK) if spec else spec

    monkeypatch.setattr(runs, "sync_spec", link_paged)
    _, token = connected(
        acme.partner, system="maintainx", config={}, credentials={"api_key": "mx-key"}
    )
    yield fake, RemoteSyncs(token, django_capture_on_commit_callbacks)
    fake.stop()


def test_a_listing_is_followed_through_its_next_links_to_the_end(pager):
    fake, syncs = pager
    run = syncs.sync("work_orders")
    assert (run.status, run.added, run.pages) == ("succeeded", 100, 3)
    assert [r.query.get("page_info") for r in fake.requests] == [None, ["p40"], ["p80"]]
    assert syncs.record("work_orders", 57)["title"] == "Job 57"


def test_a_next_link_that_leaves_the_listing_fails_the_run(pager):
    fake, syncs = pager
    fake.next_path = "/v1/users"
    run = syncs.sync("work_orders")
    # The page came with a link that cannot be followed: nothing of it is trusted.
    assert (run.status, run.error_code, run.added) == ("failed", "unexpected_answer", 0)
    assert len(fake.requests) == 1 and "leaves the listing" in run.error_message


def test_link_headers_are_read_as_rfc_8288_says():
    header = (
        '<https://x.example/v1/items?page=1>; rel="prev first", '
        "<https://x.example/v1/items?page=3&limit=40>; rel=next"
    )
    assert next_position(LINK, None, {}, [], link=header, path="/items") == "page=3&limit=40"
    assert next_position(LINK, None, {}, [], link="", path="/items") is None
    assert page_query(LINK, "page=3&limit=40") == {"page": "3", "limit": "40"}
    with pytest.raises(PagingError):
        next_position(
            LINK, None, {}, [], link='<https://x.example/admin?a=1>; rel="next"', path="/items"
        )
