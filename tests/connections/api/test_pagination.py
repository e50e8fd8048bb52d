"""Paging the partner API's lists with cursors: every row once, in order, at the cost of a
first page however deep; a cursor that is not the list's own is a 400, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from connections.models import Connection, Event, Mode, WebhookDelivery, WebhookEndpoint
from connections.selectors import NEWEST_FIRST, Position, after
from connections.services.partners import partner_create
from tests.conftest import bearer, error_of

pytestmark = pytest.mark.django_db


def many_connections(partner, count: int, *, ties: int = 0, **fields) -> list[str]:
    """``count`` connections, one a minute back from now; the newest ``ties`` share one
    time (ids break the tie). Their ids, newest first."""
    rows = Connection.objects.bulk_create(
        Connection(partner=partner, system_id="infoplus", method="api_key", **fields)
        for _ in range(count)
    )
    now = timezone.now()
    for index, row in enumerate(rows):
        when = now if index < ties else now - timedelta(minutes=index)
        Connection.objects.filter(pk=row.pk).update(created_at=when)
    return list(
        Connection.objects.filter(pk__in=[r.pk for r in rows])
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )


def walk(api, path: str, **params) -> list[list[str]]:
    """Every page of a list, following next_cursor: the ids of each page."""
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = api.get(path, query).json()
        pages.append([row["id"] for row in body["data"]])
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if cursor is None:
            return pages


def test_cursors_walk_every_connection_once_newest_first(acme, api):
    expected = many_connections(acme.partner, 23, ties=5)
    pages = walk(api, "/api/v1/connections", limit=5)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [row for page in pages for row in page] == expected


def test_cursors_keep_the_filters_they_are_given(acme, api):
    many_connections(acme.partner, 6, end_user_id="a")
    wanted = many_connections(acme.partner, 7, end_user_id="b", status="active")
    pages = walk(api, "/api/v1/connections", limit=3, end_user_id="b", status="active")
    assert [row for page in pages for row in page] == wanted


def test_offset_still_pages_and_hands_over_a_cursor(acme, api):
    expected = many_connections(acme.partner, 8)
    body = api.get("/api/v1/connections", {"limit": 3, "offset": 3}).json()
    assert [row["id"] for row in body["data"]] == expected[3:6]
    rest = api.get("/api/v1/connections", {"limit": 5, "cursor": body["next_cursor"]}).json()
    assert [row["id"] for row in rest["data"]] == expected[6:]
    assert rest["next_cursor"] is None and rest["has_more"] is False


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "nonsense"},
        {"cursor": "WyIyMDI1LTAxLTAxIiwiY29ubl94Il0:forged"},
        {"cursor": "x" * 201},
        {"cursor": ""},
        {"offset": 10_001},
    ],
)
def test_a_bad_cursor_or_too_deep_an_offset_is_a_clear_400(acme, api, query):
    response = api.get("/api/v1/connections", query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] in ("invalid_cursor", "invalid_request")
    if "offset" in query:
        assert "cursor" in error["message"]


def test_a_cursor_works_only_on_its_own_list_and_for_its_own_partner(acme, api):
    many_connections(acme.partner, 4)
    cursor = api.get("/api/v1/connections", {"limit": 2}).json()["next_cursor"]
    _, other_secret = partner_create(name="Other", origins=[], actor="test")
    refused = bearer(other_secret).get("/api/v1/connections", {"cursor": cursor})
    assert refused.status_code == 400 and error_of(refused)["code"] == "invalid_cursor"
    both = api.get("/api/v1/connections", {"cursor": cursor, "offset": 2})
    assert both.status_code == 400 and "not both" in error_of(both)["message"]
    deliveries = api.get("/api/v1/webhook-deliveries", {"cursor": cursor})
    assert deliveries.status_code == 400 and error_of(deliveries)["code"] == "invalid_cursor"


def test_cursors_walk_every_delivery_once_newest_first(acme, api):
    endpoint = WebhookEndpoint.objects.create(partner=acme.partner, url="https://h.test/")
    event = Event.objects.create(partner=acme.partner, kind="webhook.test", actor="test")
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event) for _ in range(7)
    )
    now = timezone.now()
    for index, row in enumerate(rows):
        WebhookDelivery.objects.filter(pk=row.pk).update(created_at=now - timedelta(seconds=index))
    pages = walk(api, "/api/v1/webhook-deliveries", limit=3)
    assert [row for page in pages for row in page] == [row.pk for row in rows]


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="PostgreSQL's plans")
@pytest.mark.parametrize("depth", ["first page", "deep page"])
def test_a_page_is_read_off_the_index_at_any_depth_never_sorted(acme, depth):
    """The plan of a page: the partner's index, entered at the position, no sort (a sort
    reads every matching row before the first is returned)."""
    many_connections(acme.partner, 30)
    other, _ = partner_create(name="Other", origins=[], actor="test")
    many_connections(other, 300)  # the partner's rows are a few among many
    position = Position(timezone.now() - timedelta(minutes=20), "conn_x")
    rows = Connection.objects.filter(partner=acme.partner, mode=Mode.LIVE)
    with db.cursor() as cursor:
        cursor.execute("ANALYZE connections_connection")
        # A tiny table is read whole and sorted whatever the indexes; priced out of the
        # plan here, a sort still shows up if no index gives the order.
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        plan = _plan(rows, position if depth == "deep page" else None)
    assert "connection_partner_page" in plan
    assert "Sort" not in plan


def _plan(rows, position) -> str:
    return after(rows, position).order_by(*NEWEST_FIRST)[:51].explain()
