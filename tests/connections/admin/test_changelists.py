"""The admin's lists over tables that grow without bound: a bounded number of queries however
many rows (no query per row), no exact count of a large table, no filter choices read off the
table itself (``SELECT DISTINCT``)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from catalog.models import System
from connections.events import EventKind
from connections.models import (
    Connection,
    Event,
    LinkSession,
    Partner,
    ValidationAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

pytestmark = pytest.mark.django_db
ONE = "sandbox-erp"  # no seeded row is of this system: filters pick out the one made so

CHANGELISTS = [
    "/admin/connections/connection/",
    "/admin/connections/linksession/",
    "/admin/connections/event/",
    "/admin/connections/webhookdelivery/",
    "/admin/connections/validationattempt/",
]
TABLES = [
    "connections_connection",
    "connections_linksession",
    "connections_event",
    "connections_webhookdelivery",
    "connections_validationattempt",
]


def seed(count: int) -> None:
    """``count`` rows of each, spread over five partners and several systems, each row with
    the related rows its list shows (partner, system, connection, endpoint, event)."""
    partners = Partner.objects.bulk_create(Partner(name=f"P{n}") for n in range(5))
    endpoints = WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(partner=p, url=f"https://{p.name}.test/", secret="x") for p in partners
    )
    slugs = list(System.objects.exclude(slug=ONE).values_list("slug", flat=True)[:7])
    connections = Connection.objects.bulk_create(
        Connection(partner=partners[n % 5], system_id=slugs[n % 7], end_user_id=f"u{n}")
        for n in range(count)
    )
    sessions = LinkSession.objects.bulk_create(
        LinkSession(
            partner=partners[n % 5],
            token_digest=hashlib.sha256(f"{count}-{n}".encode()).hexdigest(),
            end_user_id=f"u{n}",
            expires_at=timezone.now() + timedelta(hours=1),
            system_chosen=slugs[n % 7],
            connection=connections[n],
        )
        for n in range(count)
    )
    kinds = list(EventKind)
    events = Event.objects.bulk_create(
        Event(
            partner=partners[n % 5],
            kind=kinds[n % len(kinds)],
            actor="test",
            connection=connections[n],
            link_session=sessions[n],
        )
        for n in range(count)
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoints[n % 5], event=events[n]) for n in range(count)
    )
    ValidationAttempt.objects.bulk_create(
        ValidationAttempt(
            link_session=sessions[n], system_slug=slugs[n % 7], method="api_key", status="failed"
        )
        for n in range(count)
    )
    if settings.USING_POSTGRES:
        with db.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"ANALYZE {table}")  # the planner's estimate: about right


def queries_of(admin_client, assert_max, path: str) -> list[str]:
    with assert_max(10) as captured:
        response = admin_client.get(path)
    assert response.status_code == 200
    return [query["sql"] for query in captured]


@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_list_costs_the_same_few_queries_with_5_or_50_rows(
    catalog, admin_client, django_assert_max_num_queries, path
):
    seed(5)
    few = queries_of(admin_client, django_assert_max_num_queries, path)
    seed(45)
    many = queries_of(admin_client, django_assert_max_num_queries, path)
    assert len(many) == len(few)
    assert not [sql for sql in many if "DISTINCT" in sql]


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="PostgreSQL's estimate")
@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_large_table_is_never_counted_row_by_row(
    catalog, admin_client, django_assert_max_num_queries, settings, path
):
    settings.ONRAMP_ADMIN_EXACT_COUNT_UP_TO = 10  # 50 rows are a large table here
    seed(50)
    queries = queries_of(admin_client, django_assert_max_num_queries, path)
    assert not [sql for sql in queries if "COUNT(" in sql.upper()]
    html = admin_client.get(path).content.decode()
    assert "about " in html


@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_small_table_is_counted_exactly(catalog, admin_client, path):
    seed(12)
    html = admin_client.get(path).content.decode()
    assert "about " not in html
    assert '<p class="paginator">' in html and "\n12 " in html
    if "event" not in path and "attempt" not in path:  # pages with actions: on every row
        assert html.count('name="_selected_action" value="') == 12


DAY_AGO = str(timezone.now() - timedelta(days=1))


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/admin/connections/linksession/", {"system_chosen": ONE}),
        ("/admin/connections/connection/", {"system": ONE}),
        ("/admin/connections/validationattempt/", {"system_slug": ONE}),
        ("/admin/connections/event/", {"kind": EventKind.CONNECTION_CREATED.value}),
        ("/admin/connections/webhookdelivery/", {"created_at__gte": DAY_AGO}),
    ],
)
def test_filters_narrow_the_list(catalog, admin_client, path, query):
    seed(3)
    Connection.objects.filter(end_user_id="u0").update(system_id=ONE)
    LinkSession.objects.filter(end_user_id="u0").update(system_chosen=ONE)
    ValidationAttempt.objects.filter(link_session__end_user_id="u0").update(system_slug=ONE)
    Event.objects.update(kind=EventKind.LINK_SESSION_CREATED)
    Event.objects.filter(link_session__end_user_id="u0").update(kind=query.get("kind", "x"))
    long_ago = timezone.now() - timedelta(days=30)
    WebhookDelivery.objects.exclude(event__link_session__end_user_id="u0").update(
        created_at=long_ago
    )
    html = admin_client.get(path, query).content.decode()
    assert "\n1 " in html.split('<p class="paginator">')[1][:100]
