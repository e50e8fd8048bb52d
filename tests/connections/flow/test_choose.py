"""The choose screen: categories and popular systems before typing, search, and "Can't find
your system?", which the partner hears of as an event and a webhook."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import SystemRequest
from connections.models import Event
from tests.end_user import HTMX
from tests.factories import link_session

pytestmark = pytest.mark.django_db


def cards(html: str) -> list[str]:
    return re.findall(r'href="/connect/[^/]+/s/([a-z0-9-]+)/"', html)


def test_before_typing_categories_and_the_popular_systems(end_user):
    user = end_user()
    html = user.get().content.decode()
    assert "Popular" in html and 'data-onramp-event="OPEN"' in html
    shown = cards(html)
    assert 0 < len(shown) <= 8 and "sandbox-erp" in shown
    for label in ("ERP", "Warehouse (WMS)", "Maintenance (CMMS)"):
        assert f">{label}</option>" in html
    assert "find your system?" in html


def test_a_category_shows_its_systems_and_stays_while_typing(end_user):
    user = end_user()
    page = user.get("systems/?category=cmms", headers=HTMX | {"HX-Target": "flow"})
    html = page.content.decode()
    assert '<option value="cmms" selected>Maintenance (CMMS)</option>' in html
    assert {"limble", "maintainx", "ibm-maximo"} <= set(cards(html))
    assert "netsuite" not in cards(html) and 'data-onramp-event="OPEN"' not in html
    typed = user.get("systems/?category=cmms&q=lim", headers=HTMX).content.decode()
    assert cards(typed) == ["limble"] and typed.lstrip().startswith('<div id="results">')


def test_an_unknown_category_is_ignored(end_user):
    user = end_user()
    response = user.get("systems/?category=<script>")
    html = response.content.decode()
    assert response.status_code == 200 and "<script>" not in html
    assert "Popular" in html and len(cards(html)) == 8  # the first screen, not an empty list


def test_a_session_limited_to_some_systems_offers_only_their_categories(end_user):
    user = end_user(systems=["netsuite", "infoplus"])
    html = user.get().content.decode()
    assert set(cards(html)) == {"netsuite", "infoplus"}
    assert ">Warehouse (WMS)</option>" in html and ">Maintenance (CMMS)</option>" not in html


def test_cant_find_it_tells_the_partner_once(acme, end_user, django_capture_on_commit_callbacks):
    user = end_user(end_user_id="u-42")
    post = lambda name: user.post(  # noqa: E731
        "systems/request/", {"name": name, "q": "plex"}, headers=HTMX
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = post("  Plex   Smart Manufacturing ")
    assert first.status_code == 200
    assert "We let Acme know you use Plex Smart Manufacturing" in first.content.decode()
    assert 'data-onramp-event="SYSTEM_REQUESTED"' in first.content.decode()
    assert post("plex smart MANUFACTURING").status_code == 200  # a double submit
    request = SystemRequest.objects.get()
    assert (request.name, request.partner_id) == ("Plex Smart Manufacturing", acme.partner.id)
    event = Event.objects.get(kind="catalog.system_requested")
    assert event.actor == "end_user:u-42"
    assert event.data == {"name": "Plex Smart Manufacturing", "query": "plex"}


def test_cant_find_it_needs_a_name_and_is_limited(end_user):
    user = end_user()
    empty = user.post("systems/request/", {"name": "  "}, headers=HTMX)
    assert empty.status_code == 400
    assert "Enter the name of the system you use." in empty.content.decode()
    for n in range(5):
        assert user.post("systems/request/", {"name": f"System {n}"}).status_code == 200
    too_many = user.post("systems/request/", {"name": "System 6"}, headers=HTMX)
    assert too_many.status_code == 429 and SystemRequest.objects.count() == 5


def test_without_javascript_the_answer_comes_on_the_whole_screen(end_user):
    user = end_user()
    page = user.post("systems/request/", {"name": "Plex", "q": "plex"})
    html = page.content.decode()
    assert html.lstrip().startswith("<!doctype html>") and "We let Acme know you use Plex" in html


def test_the_partners_webhook_receives_the_request(api, end_user, fake_systems):
    hook = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.acme.test/onramp", "events": ["catalog.system_requested"]},
        content_type="application/json",
    ).json()
    fake_systems.receiver.secrets.append(hook["secret"])
    user = end_user(end_user_id="u-7")
    user.submit("systems/request/", {"name": "Plex", "q": "plx"}, headers=HTMX)
    [received] = fake_systems.receiver.accepted
    assert received["type"] == "catalog.system_requested"
    assert received["data"] | {"link_session_id": None} == {
        "link_session_id": None,
        "end_user_id": "u-7",
        "system": None,
        "mode": "live",
        "name": "Plex",
        "query": "plx",
    }


def test_search_ignores_nul_characters(acme):
    _, token = link_session(acme.partner)
    assert Client().get(f"/connect/{token}/systems/?q=net%00suite").status_code == 200


def test_without_javascript_the_search_is_a_form_and_the_results_come_right_under_it(end_user):
    user = end_user()
    html = user.get().content.decode()
    form = re.search(r'<form action="([^"]+)" method="get" role="search".*?</form>', html, re.S)
    assert form and form.group(1) == f"{user.base}systems/"
    assert 'name="q"' in form.group(0) and '<select id="system-category" name="category"' in (
        form.group(0)
    )
    assert '<noscript><button type="submit"' in form.group(0)  # Enter or the button: GET
    between = html[form.end() : html.index('<div id="results"')]
    assert not re.search(r"<(a|button|input|select|nav|details)\b", between)  # nothing to pass


def test_without_javascript_a_search_and_a_kind_are_whole_screens(end_user):
    user = end_user()
    typed = user.get("systems/?q=sandbox&category=").content.decode()
    assert typed.lstrip().startswith("<!doctype html>")
    assert cards(typed) == ["sandbox-erp"] and "1 system found" in typed
    assert 'value="sandbox"' in typed  # what was typed stays in the box
    kind = user.get("systems/?q=&category=wms").content.decode()
    assert '<option value="wms" selected>' in kind and "infoplus" in cards(kind)
    assert "netsuite" not in cards(kind)


def test_each_result_is_a_real_link(end_user):
    user = end_user()
    html = user.get("systems/?q=sandbox", headers=HTMX).content.decode()
    assert f'href="{user.base}s/sandbox-erp/" hx-get="{user.base}s/sandbox-erp/"' in html
