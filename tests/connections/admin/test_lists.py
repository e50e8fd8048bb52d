"""What every admin list shows (``admin/rows.py``): newest first, times as people read them,
each row linking to its own page, the same markup Django's admin writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.utils import timezone

from connections.admin.rows import when
from connections.models import LinkSession, PartnerKey, WebhookDelivery
from connections.services.partners import partner_key_create
from connections.services.webhooks import webhook_endpoint_create
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db


def older(model, pk, days: int) -> None:
    model.objects.filter(pk=pk).update(created_at=timezone.now() - timedelta(days=days))


def order_on(html: str, *texts: str) -> list[int]:
    return [html.index(text) for text in texts]


def test_link_sessions_deliveries_and_keys_list_newest_first(acme, operator):
    admin = operator()
    for n, days in enumerate([3, 1, 2]):
        session, _ = link_session(acme.partner, end_user_id=f"user-{n}")
        older(LinkSession, session.pk, days)
    html = admin.get("/admin/connections/linksession/").content.decode()
    assert order_on(html, "user-1", "user-2", "user-0") == sorted(
        order_on(html, "user-1", "user-2", "user-0")
    )
    first = PartnerKey.objects.get()
    older(PartnerKey, first.pk, 5)
    newer, _ = partner_key_create(partner=acme.partner, actor="test", label="newer")
    html = admin.get("/admin/connections/partnerkey/").content.decode()
    assert html.index(newer.display) < html.index(first.display)
    webhook_endpoint_create(
        partner=acme.partner, url="https://hooks.acme.test/", events=[], actor="test"
    )
    connected(acme.partner)
    connected(acme.partner)
    deliveries = list(WebhookDelivery.objects.order_by("created_at"))
    older(WebhookDelivery, deliveries[-1].pk, 4)  # the last made is now the oldest
    html = admin.get("/admin/connections/webhookdelivery/").content.decode()
    assert html.index(quote(deliveries[0].pk)) < html.index(quote(deliveries[-1].pk))


def test_times_read_as_dates_with_how_long_ago(acme, operator):
    session, _ = link_session(acme.partner, end_user_id="just-made")
    LinkSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(minutes=5),
        expires_at=timezone.now() + timedelta(hours=3, minutes=30),
    )
    html = operator().get("/admin/connections/linksession/").content.decode()
    made = timezone.now() - timedelta(minutes=5)
    assert f"{made.day} {made:%b %Y, %H:}" in html  # "7 Dec 2026, 18:13", not "p.m."
    assert "(5 min ago)" in html and "(in 3 h)" in html  # made, and when it ends
    assert '<time datetime="' in html


def test_each_row_links_to_its_page_with_the_list_filters_kept(acme, operator):
    session, _ = link_session(acme.partner, end_user_id="linked")
    html = operator().get("/admin/connections/linksession/", {"mode": "live"}).content.decode()
    page = f"/admin/connections/linksession/{quote(session.pk)}/change/"
    assert f'<th class="field-id"><a href="{page}?_changelist_filters=mode%3Dlive">' in html
    assert '<td class="field-partner nowrap">Acme</td>' in html
    assert 'class="action-select" aria-label="Select this object for an action - ' in html


def test_a_time_says_how_long_ago_only_within_a_day():
    now = timezone.localtime()
    assert "(just now)" in when(now - timedelta(seconds=20), now)
    assert "(3 h ago)" in when(now - timedelta(hours=3, minutes=1), now)
    assert "(in 12 min)" in when(now + timedelta(minutes=12, seconds=5), now)
    two_days = when(now - timedelta(days=2), now)
    assert "ago" not in two_days and 'title="' in two_days and "UTC" in two_days
    assert when(None) == "-"
