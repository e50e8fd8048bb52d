"""The link sessions' pages (``admin/link_sessions.py``): status and last screen, unlock,
extend and cancel (an extend never revives a cancelled link), a link made for a customer, and
a view-only operator who can look but not act."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from connections.models import Event, LinkSession
from connections.services.link_sessions import link_session_cancel
from tests.factories import link_session
from tests.races import held_until_waited_on

pytestmark = pytest.mark.django_db
LIST = "/admin/connections/linksession/"


def act(admin, action: str, *sessions: LinkSession):
    return admin.post(LIST, {"action": action, "_selected_action": [s.pk for s in sessions]})


def test_sessions_show_status_and_the_last_screen_and_filter_by_status(acme, operator):
    admin = operator()
    open_one, _ = link_session(acme.partner, end_user_id="still-going")
    LinkSession.objects.filter(pk=open_one.pk).update(last_screen="s/netsuite/m2m/")
    locked, _ = link_session(acme.partner, end_user_id="locked-out")
    LinkSession.objects.filter(pk=locked.pk).update(locked_at=timezone.now())
    html = admin.get(LIST).content.decode()
    assert "s/netsuite/m2m/" in html and "Locked" in html and "Open" in html
    only_locked = admin.get(LIST, {"status": "locked"}).content.decode()
    assert "locked-out" in only_locked and "still-going" not in only_locked


def test_unlock_extend_and_cancel(acme, operator):
    admin = operator()
    session, token = link_session(acme.partner)
    LinkSession.objects.filter(pk=session.pk).update(locked_at=timezone.now(), failed_attempts=8)
    act(admin, "unlock", session)
    session.refresh_from_db()
    assert session.locked_at is None and session.failed_attempts == 0
    assert Client().get(f"/connect/{token}/").status_code == 200
    before = session.expires_at
    act(admin, "extend", session)
    session.refresh_from_db()
    assert session.expires_at - before >= timedelta(days=1)
    act(admin, "cancel", session)
    assert Client().get(f"/connect/{token}/").status_code == 410
    kinds = set(Event.objects.filter(link_session=session).values_list("kind", flat=True))
    assert {"link_session.unlocked", "link_session.extended", "link_session.cancelled"} <= kinds


def test_a_link_for_a_customer_is_shown_once_and_works(acme, operator):
    admin = operator()
    form = admin.get(LIST + "add/")
    assert form.status_code == 200 and "Create a link for a customer" in form.content.decode()
    made = admin.post(
        LIST + "add/",
        {"partner": acme.partner.pk, "end_user_id": "cust-9", "expires_in_days": 3},
    )
    html = made.content.decode()
    url = re.search(r"https?://[^<\s]+/connect/onr_lt_\w+/", html).group(0)
    assert "no-store" in made["Cache-Control"] and "cust-9" not in made.get("Location", "")
    session = LinkSession.objects.get(end_user_id="cust-9")
    assert session.expires_at - timezone.now() > timedelta(days=2, hours=23)
    path = url[url.index("/connect/") :]
    assert Client().get(path).status_code == 200
    assert url not in admin.get(LIST).content.decode()


def test_viewing_is_not_operating(acme, operator):
    viewer = operator(permissions=["view_linksession"])  # and nothing more
    session, _ = link_session(acme.partner)
    LinkSession.objects.filter(pk=session.pk).update(locked_at=timezone.now())
    assert viewer.get(LIST).status_code == 200
    assert viewer.get(LIST + "add/").status_code == 403
    viewer.post(LIST, {"action": "unlock", "_selected_action": [session.pk]})
    assert LinkSession.objects.get(pk=session.pk).locked_at is not None
    assert viewer.get("/admin/reports/funnel/").status_code == 200
    assert viewer.get("/admin/catalog/systemrequest/").status_code == 403


def test_a_cancelled_link_is_not_brought_back_by_extend(acme, operator):
    admin = operator()
    session, token = link_session(acme.partner)
    act(admin, "cancel", session)
    act(admin, "extend", session)
    assert Client().get(f"/connect/{token}/").status_code == 410


@pytest.mark.django_db(transaction=True)
def test_an_extend_waiting_on_another_operators_cancel_says_it_could_not(acme, operator):
    admin = operator()
    session, token = link_session(acme.partner)
    other, _ = link_session(acme.partner, end_user_id="still-open")

    def cancel_by_b() -> bool:
        fresh = LinkSession.objects.get(pk=session.pk)
        return link_session_cancel(session=fresh, actor="operator:b")

    with held_until_waited_on(cancel_by_b) as cancel:
        response = act(admin, "extend", session, other)
    assert cancel["result"] is True
    assert Client().get(f"/connect/{token}/").status_code == 410
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said[0] == "Extended 1 link session(s) by a day."
    assert said[1].startswith("1 could not be extended: ended (cancelled, expired or completed)")


def test_a_link_for_a_customer_takes_a_language_and_a_redirect_and_is_called_a_link(
    acme, operator
):
    admin = operator()
    form = admin.get(LIST + "add/").content.decode()
    assert 'name="locale"' in form and 'name="redirect_url"' in form
    made = admin.post(
        LIST + "add/",
        {
            "partner": acme.partner.pk,
            "end_user_id": "cust-de",
            "expires_in_days": 1,
            "locale": "de",
            "redirect_url": "https://app.acme.test/done",
        },
    ).content.decode()
    assert "Secret" not in made and "secret" not in made
    assert "Copy" in made and "data-copy=" in made
    session = LinkSession.objects.get(end_user_id="cust-de")
    assert session.locale == "de" and session.redirect_url == "https://app.acme.test/done"


def test_a_redirect_off_the_partners_origins_is_refused_with_a_message(acme, operator):
    answer = operator().post(
        LIST + "add/",
        {
            "partner": acme.partner.pk,
            "end_user_id": "cust-x",
            "expires_in_days": 1,
            "redirect_url": "https://evil.test/",
        },
    )
    assert answer.status_code == 200
    assert "allowed origins" in answer.content.decode()
    assert not LinkSession.objects.filter(end_user_id="cust-x").exists()
