"""The catalog in the admin: per-system numbers, switches that reach search at once, and the
systems end users asked for, ranked."""

from __future__ import annotations

import re

import pytest

from catalog.models import SystemRequest
from catalog.search import search_systems
from connections.models import LinkSession, ValidationAttempt
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db


def chose(partner, slug: str, *, connected_too: bool = False) -> LinkSession:
    session, _ = link_session(partner)
    LinkSession.objects.filter(pk=session.pk).update(system_chosen=slug)
    if connected_too:
        LinkSession.objects.filter(pk=session.pk).update(validated_at=session.created_at)
    return session


def failed(slug: str, code: str) -> None:
    ValidationAttempt.objects.create(
        system_slug=slug, method="api_key", status="failed", error_code=code
    )


def test_each_system_shows_connections_completion_and_failures(acme, operator, fake_systems):
    admin = operator()
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connected(acme.partner)
    chose(acme.partner, "infoplus", connected_too=True)
    chose(acme.partner, "infoplus")
    chose(acme.partner, "infoplus")
    chose(acme.partner, "infoplus", connected_too=True)
    for code in ("invalid_credentials", "invalid_credentials", "forbidden"):
        failed("infoplus", code)
    html = admin.get("/admin/catalog/system/?q=infoplus").content.decode()
    assert '<td class="field-connection_count">1</td>' in html
    assert "50% (2/4)" in html
    assert "invalid_credentials x2, forbidden x1" in html
    detail = admin.get("/admin/catalog/system/", {"q": "netsuite"}).content.decode()
    assert "invalid_credentials" not in detail


def test_a_systems_page_lists_its_failures_by_code(acme, operator):
    from catalog.models import System

    admin = operator()
    for code in ("timeout", "forbidden", "timeout"):
        failed("netsuite", code)
    pk = System.objects.get(slug="netsuite").pk
    html = admin.get(f"/admin/catalog/system/{pk}/change/").content.decode()
    assert "<td><code>timeout</code></td><td>2</td>" in html
    assert "<td><code>forbidden</code></td><td>1</td>" in html


def test_pinning_and_disabling_reach_search_at_once(
    acme, operator, django_capture_on_commit_callbacks
):
    from catalog.models import System

    admin = operator()
    katana = System.objects.get(slug="katana").pk
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/admin/catalog/system/", {"action": "pin", "_selected_action": [katana]})
    assert search_systems("")[0] == "katana"
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/admin/catalog/system/", {"action": "disable", "_selected_action": [katana]})
    assert "katana" not in search_systems("katana")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/admin/catalog/system/{katana}/change/", {"enabled": "on", "pinned": ""})
    assert search_systems("katana") == ["katana"] and search_systems("")[0] != "katana"


def test_requested_systems_are_ranked_by_how_many_asked(acme, operator):
    admin = operator()
    for n, name in enumerate(["Plex", "plex", "PLEX", "Epicor Kinetic", "Epicor Kinetic", "Sage"]):
        SystemRequest.objects.create(
            name=name, normalized=name.lower(), partner_id=acme.partner.id, link_session_id=f"s{n}"
        )
    html = admin.get("/admin/catalog/systemrequest/").content.decode()
    ranked = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td>", html)
    assert [(name.lower(), int(count)) for name, count in ranked] == [
        ("plex", 3),
        ("epicor kinetic", 2),
        ("sage", 1),
    ]
    assert "6 requests" in html
