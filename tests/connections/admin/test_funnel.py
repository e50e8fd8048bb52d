"""The funnel report (``admin/funnel.py``): each step counted, failures per system, one mode
at a time, and linked from the admin's index only for those who may read it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from connections.models import LinkSession, ValidationAttempt
from tests.factories import link_session

pytestmark = pytest.mark.django_db


def test_the_funnel_counts_each_step_with_failures_per_system(acme, operator):
    admin = operator()
    now = timezone.now()
    steps = [
        {},
        {"opened_at": now},
        {"opened_at": now, "system_chosen": "netsuite"},
        {"opened_at": now, "system_chosen": "netsuite", "guide_viewed_at": now},
    ]
    for n, fields in enumerate(steps):
        session, _ = link_session(acme.partner, end_user_id=f"u{n}")
        LinkSession.objects.filter(pk=session.pk).update(**fields)
    submitted = LinkSession.objects.get(end_user_id="u3")
    ValidationAttempt.objects.create(
        link_session=submitted, system_slug="netsuite", method="m2m", status="failed",
        error_code="invalid_client",
    )  # fmt: skip
    page = admin.get("/admin/reports/funnel/", {"days": "7"}).content.decode()
    assert "<svg" in page and "Link sessions reaching each step" in page
    counts = re.findall(r"(\d+) \((\d+)%\)(?: · (\d+)% of the step before)?</text>", page)
    assert [int(count) for count, _, _ in counts] == [4, 3, 2, 1, 1, 0, 0]
    assert [kept for _, _, kept in counts] == ["", "75", "67", "50", "100", "0", ""]
    row = re.search(r"<th scope=\"row\">NetSuite <code>netsuite</code></th>(.*?)</tr>", page, re.S)
    assert "<code>invalid_client</code> x1" in row.group(1)
    assert '2 <span class="kept">(100%)</span>' in row.group(1)  # chosen, of opened
    other = admin.get("/admin/reports/funnel/", {"partner": "pa_none"})
    assert "No link sessions in this period." in other.content.decode()


def test_the_funnel_shows_one_mode_and_its_own_failures(acme, operator):
    admin = operator()
    test_session, _ = link_session(acme.partner, mode="test")
    LinkSession.objects.filter(pk=test_session.pk).update(system_chosen="sandbox-erp")
    live, _ = link_session(acme.partner)
    LinkSession.objects.filter(pk=live.pk).update(system_chosen="netsuite")
    ValidationAttempt.objects.create(
        system_slug="netsuite", method="m2m", status="failed", error_code="timeout"
    )  # a revalidation of some connection: not this funnel's
    page = admin.get("/admin/reports/funnel/").content.decode()
    assert "<code>netsuite</code></th>" in page and "<code>sandbox-erp</code></th>" not in page
    assert "<code>timeout</code>" not in page
    tested = admin.get("/admin/reports/funnel/", {"mode": "test"})
    assert "<code>sandbox-erp</code></th>" in tested.content.decode()


def test_reports_are_linked_from_the_index_for_those_who_may_read_them(operator):
    viewer = operator(permissions=["view_linksession"])
    assert "/admin/reports/funnel/" in viewer.get("/admin/").content.decode()
    other = operator(permissions=[])
    assert "/admin/reports/funnel/" not in other.get("/admin/").content.decode()
    assert other.get("/admin/reports/funnel/").status_code == 403
    anonymous = Client().get("/admin/reports/funnel/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
