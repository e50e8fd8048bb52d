"""The catalog in the admin: per-system numbers, switches that reach search at once, and the
systems end users asked for, ranked."""

from __future__ import annotations

import re

import pytest

from catalog.models import SystemRequest
from catalog.search import search_systems
from connections.models import Connection, LinkSession, ValidationAttempt
from connections.services.system_figures import system_figures_count
from tests.factories import connected, link_session, practice_sign_in

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
    system_figures_count()
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


def figures_row(admin_client, slug: str) -> tuple[str, str, str]:
    html = admin_client.get("/admin/catalog/system/", {"q": slug}).content.decode()
    cells = [
        re.search(rf'<td class="field-{name}">(.*?)</td>', html).group(1)
        for name in ("connection_count", "completion", "failures")
    ]
    return tuple(cells)


def test_figures_follow_changes_at_the_next_count(acme, admin_client, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    system_figures_count()
    assert figures_row(admin_client, "infoplus") == ("0", "-", "-")
    connection, _ = connected(acme.partner)
    chose(acme.partner, "infoplus")
    failed("infoplus", "forbidden")
    assert figures_row(admin_client, "infoplus") == ("0", "-", "-")  # until counted
    system_figures_count()
    assert figures_row(admin_client, "infoplus")[0] == "1"
    assert figures_row(admin_client, "infoplus")[2] == "forbidden x1"
    Connection.objects.filter(pk=connection.pk).delete()
    LinkSession.objects.filter(system_chosen="infoplus").update(system_chosen="netsuite")
    ValidationAttempt.objects.filter(system_slug="infoplus").update(system_slug="netsuite")
    system_figures_count()
    assert figures_row(admin_client, "infoplus") == ("0", "-", "-")
    assert figures_row(admin_client, "netsuite")[2] == "forbidden x1"


def test_the_systems_page_costs_the_same_queries_however_many_rows(
    acme, admin_client, django_assert_max_num_queries
):
    def queries_for_the_page() -> int:
        system_figures_count()
        with django_assert_max_num_queries(8) as captured:
            assert admin_client.get("/admin/catalog/system/").status_code == 200
        counted = ("connections_connection", "connections_linksession", "validationattempt")
        assert not [q["sql"] for q in captured if any(t in q["sql"] for t in counted)]
        return len(captured)

    chose(acme.partner, "infoplus", connected_too=True)
    failed("infoplus", "timeout")
    few = queries_for_the_page()
    for slug in ("netsuite", "katana", "xero", "acumatica", "odoo", "mintsoft") * 5:
        chose(acme.partner, slug, connected_too=True)
        failed(slug, "timeout")
        failed(slug, "forbidden")
    assert queries_for_the_page() == few


def test_a_recount_on_demand_needs_the_change_permission(acme, admin_client):
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    from catalog.models import System

    chose(acme.partner, "katana", connected_too=True)
    katana = System.objects.get(slug="katana").pk
    user = User.objects.create_user("looker", password="looker-password-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_system"))
    looker = Client()
    looker.force_login(user)
    recount = {"action": "count_figures", "_selected_action": [katana]}
    assert looker.post("/admin/catalog/system/", recount).status_code == 403
    admin_client.post("/admin/catalog/system/", recount)
    assert figures_row(admin_client, "katana")[1] == "100% (1/1)"


def test_a_systems_page_says_which_partners_its_sign_in_is_offered_to(acme, operator):
    from catalog.models import System

    admin = operator()
    xero = System.objects.get(slug="xero").pk
    html = admin.get(f"/admin/catalog/system/{xero}/change/").content.decode()
    assert "Sign in with Xero: only partners that registered their OAuth app (none yet)" in html
    assert "other partners&#x27; end users are not offered this system" in html
    practice_sign_in(acme.partner)
    sandbox = System.objects.get(slug="sandbox-erp").pk
    html = admin.get(f"/admin/catalog/system/{sandbox}/change/").content.decode()
    assert "Sign in with Sandbox ERP: only partners that registered their OAuth app (Acme)" in html
    infoplus = System.objects.get(slug="infoplus").pk
    html = admin.get(f"/admin/catalog/system/{infoplus}/change/").content.decode()
    assert "Every partner&#x27;s end users." in html


def test_a_systems_page_says_how_its_facts_were_checked(acme, operator):
    from catalog.models import System

    admin = operator()
    veeqo = System.objects.get(slug="veeqo").pk
    html = admin.get(f"/admin/catalog/system/{veeqo}/change/").content.decode()
    assert "against the vendor&#x27;s docs, 2026-12-07" in html
    listing = admin.get("/admin/catalog/system/").content.decode()
    assert "Facts checked" in listing and "not checked" in listing  # the Sandbox ERP
