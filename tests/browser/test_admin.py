"""The operator's admin in a real browser at 1280 px: a button on a link session's own page,
through its confirmation, and no axe violations on the pages it crosses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from catalog.sync import catalog_sync
from connections.models import Event, LinkSession
from connections.services.partners import partner_create
from tests.browser.test_axe import violations
from tests.factories import link_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_unlocks_a_link_session_from_its_page(browser, onramp_server):
    catalog_sync()
    partner, _ = partner_create(name="Acme", origins=["https://app.acme.test"], actor="test")
    session, _ = link_session(partner, end_user_id="locked-out")
    LinkSession.objects.filter(pk=session.pk).update(locked_at=timezone.now(), failed_attempts=8)
    User.objects.create_superuser("ops", "ops@x.test", "a long operator password")
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(onramp_server + "/admin/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill("a long operator password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("End user id").fill("locked-out")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=session.pk).click()
    found = {"object page": violations(page)}
    page.get_by_role("link", name="Unlock").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unlock")
    found["confirmation"] = violations(page)
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator(".messagelist")).to_contain_text("Unlocked 1 link session(s).")
    assert LinkSession.objects.get(pk=session.pk).locked_at is None
    assert Event.objects.filter(link_session=session, actor="admin:ops").exists()
    found["after"] = violations(page)
    assert {name: found_ for name, found_ in found.items() if found_} == {}
