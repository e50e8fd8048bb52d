"""The end-user flow through Django's test client: every screen, full page and htmx; leaving
and coming back (resuming, a way out of every dead end, tries left); whatever the URL, never a
500."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from connections.models import AttemptStatus, Connection, Event, LinkSession, ValidationAttempt
from tests.conftest import FUZZ
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db
BACK = "https://app.acme.test/connected"


def text(response) -> str:
    return response.content.decode()


def test_full_page_walk_to_a_working_connection(end_user, fake_systems, api):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    session = user.session
    choose = user.get()
    assert choose.status_code == 200
    assert "Which system do you use?" in text(choose)
    assert "Infoplus" in text(choose) and "Sandbox ERP" in text(choose)

    to_prepare = user.get("s/infoplus/")  # one method: straight to its guide
    assert to_prepare.status_code == 302 and to_prepare["Location"].endswith("s/infoplus/api_key/")
    guide = user.get("s/infoplus/api_key/")
    assert "Create an API key" in text(guide)

    details = user.get("s/infoplus/api_key/details/")
    assert 'name="site"' in text(details) and 'type="password"' in text(details)

    submitted = user.submit(
        "s/infoplus/api_key/details/",
        {"site": "https://ACME.infopluswms.com/app", "api_key": "key-1"},
    )
    assert submitted.status_code == 303
    attempt_page = user.get(submitted["Location"].removeprefix(user.base))
    assert attempt_page.status_code == 302 and attempt_page["Location"].endswith("/done/")

    done = user.get("done/")
    assert "Infoplus is connected" in text(done)
    public_token = re.search(r'data-public-token="([^"]+)"', text(done)).group(1)
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": public_token}, content_type="application/json"
    )
    assert exchanged.status_code == 200
    connection = Connection.objects.get(pk=exchanged.json()["connection_id"])
    assert connection.config == {"site": "acme"} and connection.status == "active"
    session.refresh_from_db()
    assert session.opened_at and session.guide_viewed_at and session.validated_at
    assert (session.system_chosen, session.method_chosen) == ("infoplus", "api_key")


def test_search_as_you_type_returns_just_the_results(end_user):
    user = end_user()
    response = user.get("systems/?q=oracle", htmx=True)
    html = text(response)
    assert html.lstrip().startswith('<div id="results">')
    assert "NetSuite" in html and "Infoplus" not in html
    empty = text(user.get("systems/?q=zzzz", htmx=True))
    assert "No system matches" in empty


def test_htmx_navigation_gets_partials_and_full_loads_get_pages(end_user):
    user = end_user()
    partial = text(user.get("s/infoplus/api_key/", htmx=True))
    assert "<html" not in partial and "Before you connect Infoplus" in partial
    full = text(user.get("s/infoplus/api_key/"))
    assert full.lstrip().startswith("<!doctype html>")


def test_bad_input_gets_a_clear_message_and_stores_nothing(end_user, fake_systems):
    user = end_user()
    response = user.submit("s/infoplus/api_key/details/", {"site": "acme corp", "api_key": ""})
    assert response.status_code == 422
    html = text(response)
    assert "Enter just the first part of your address" in html
    assert "This field is required." in html
    assert 'value="acme corp"' in html  # what the user typed is kept…
    assert ValidationAttempt.objects.count() == 0


def test_secrets_are_never_echoed_and_can_be_kept_for_a_retry(end_user, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"right-key"}
    user = end_user()
    first = user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "wrong-key-77"})
    failed = text(user.get(first["Location"].removeprefix(user.base)))
    assert "rejected these credentials" in failed and "wrong-key-77" not in failed

    again = text(user.get("s/infoplus/api_key/details/"))
    assert "wrong-key-77" not in again
    assert 'value="acme"' in again and "Leave it blank to try the same one again" in again

    retry = user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": ""})
    assert retry.status_code == 303
    assert fake_systems.infoplus.requests[-1].headers["api-key"] == "wrong-key-77"

    moved = user.submit("s/infoplus/api_key/details/", {"site": "other", "api_key": ""})
    assert moved.status_code == 422 and "This field is required." in text(moved)


def test_htmx_submit_shows_progress_and_pushes_the_attempt_url(end_user, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    response = user.submit(
        "s/infoplus/api_key/details/", {"site": "acme", "api_key": "nope"}, htmx=True
    )
    assert response.status_code == 200
    assert "/attempts/va_" in response["HX-Push-Url"]
    assert "Connecting to Infoplus" in text(response)
    poll = user.get(response["HX-Push-Url"].removeprefix(user.base) + "?poll=1", htmx=True)
    html = text(poll)
    assert html.lstrip().startswith('<div id="progress"')
    assert "Sign in" in html and "step-failed" in html and 'role="alert"' in html
    assert "hx-trigger" not in html  # finished: polling stops


def test_a_successful_htmx_poll_redirects_the_client_to_done(end_user, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-1"})
    attempt = ValidationAttempt.objects.get()
    response = user.get(f"attempts/{attempt.id}/?poll=1", htmx=True)
    assert response["HX-Redirect"].endswith("/done/")


def test_the_session_locks_after_repeated_failures(end_user, fake_systems, settings):
    settings.ONRAMP_SESSION_MAX_FAILURES = 2
    user = end_user()
    session = user.session
    for _ in range(2):
        user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "bad"})
    locked = user.get("s/infoplus/api_key/details/")
    assert locked.status_code == 403 and "This link is locked" in text(locked)
    refused = user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "bad"})
    assert refused.status_code == 403
    assert ValidationAttempt.objects.count() == 2
    assert Event.objects.filter(kind="link_session.locked", link_session=session).exists()


def test_validation_is_rate_limited_per_network(end_user, fake_systems, settings):
    settings.ONRAMP_VALIDATIONS_PER_IP_HOUR = 2
    user = end_user()
    for _ in range(2):
        user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "k"})
    limited = user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "k"})
    assert limited.status_code == 429
    assert "Too many attempts" in text(limited)


def test_expired_and_invalid_links(end_user):
    user = end_user()
    session = user.session
    LinkSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(1))
    expired = user.get()
    assert expired.status_code == 410 and "This link has expired" in text(expired)
    invalid = Client().get("/connect/onr_lt_notatoken/")
    assert invalid.status_code == 404 and "This link is not valid" in text(invalid)
    assert "frame-ancestors 'none'" in invalid["Content-Security-Policy"]


def test_restricted_sessions_skip_the_catalog_and_hide_other_systems(end_user):
    user = end_user(systems=["infoplus"])
    assert user.get()["Location"].endswith("/s/infoplus/")
    assert user.get("s/mintsoft/").status_code == 404
    assert user.get("s/infoplus/nope/").status_code == 404


def test_coming_soon_systems_say_so(end_user, monkeypatch):
    from dataclasses import replace

    from catalog.registry import get_definition

    soon = replace(get_definition("mintsoft"), coming_soon=True)
    monkeypatch.setattr("connections.flow.views.base.get_definition", lambda slug: soon)
    user = end_user()
    assert "Mintsoft is coming soon" in text(user.get("s/mintsoft/"))


def test_reconnect_updates_the_same_connection(acme, end_user, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-2"}
    connection, token = connected(acme.partner)
    user = end_user(connection_id=connection.id)
    assert user.get()["Location"].endswith("/s/infoplus/")
    assert 'value="acme"' in text(user.get("s/infoplus/api_key/details/"))
    user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-2"})
    assert Connection.objects.count() == 1
    assert Event.objects.filter(kind="connection.reconnected", connection=connection).exists()
    assert (
        Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/connection").status_code
        == 200
    )


def test_flow_pages_may_be_framed_only_by_the_pinned_origin_and_set_no_cookies(end_user):
    user = end_user()
    for path in ["", "systems/?q=a", "s/infoplus/api_key/", "s/infoplus/api_key/details/"]:
        response = user.get(path)
        assert "frame-ancestors https://app.acme.test" in response["Content-Security-Policy"]
        assert "X-Frame-Options" not in response
        assert response["Referrer-Policy"] == "no-referrer"
        assert not response.cookies


def test_hosted_sessions_without_an_origin_cannot_be_framed(acme, end_user):
    acme.partner.allowed_origins = ["https://a.test", "https://b.test"]
    acme.partner.save()
    user = end_user()
    assert "frame-ancestors 'none'" in user.get()["Content-Security-Policy"]


def test_cross_origin_posts_are_refused(end_user):
    user = end_user()
    response = user.submit(
        "s/infoplus/api_key/details/",
        {"site": "acme", "api_key": "k"},
        HTTP_ORIGIN="https://evil.test",
    )
    assert response.status_code == 403
    assert ValidationAttempt.objects.count() == 0


@pytest.mark.parametrize(("site", "status"), [("same-origin", 422), ("cross-site", 403)])
def test_an_opaque_origin_is_judged_by_fetch_metadata(end_user, site, status):
    """Browsers send ``Origin: null`` for a form's POST under no-referrer (no JavaScript);
    ``Sec-Fetch-Site``, which no page can forge, says whether it came from our page."""
    user = end_user()
    response = user.submit(
        "s/infoplus/api_key/details/",
        {"site": "", "api_key": ""},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE=site,
    )
    assert response.status_code == status


def test_exit_is_recorded(end_user):
    user = end_user()
    session = user.session
    assert user.submit("exit/", {}).status_code == 204
    session.refresh_from_db()
    assert session.exited_at is not None


def test_done_after_exchange_says_already_connected(acme, end_user, fake_systems, api):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-1"})
    token = re.search(r'data-public-token="([^"]+)"', text(user.get("done/"))).group(1)
    api.post("/api/v1/token-exchange", {"public_token": token}, content_type="application/json")
    again = user.get("done/")
    assert again.status_code == 409 and "already connected" in text(again)


def test_back_links_lead_to_the_previous_screen(end_user):
    user = end_user()
    assert f'href="{user.base}systems/"' in text(user.get("s/infoplus/api_key/"))  # the list
    assert f'href="{user.base}s/infoplus/api_key/"' in text(
        user.get("s/infoplus/api_key/details/")
    )
    only = end_user(systems=["infoplus"])
    assert 'class="back"' not in text(only.get("s/infoplus/api_key/"))


def test_a_slow_check_says_so(end_user, fake_systems):
    user = end_user()
    user.post("s/infoplus/api_key/details/", {"site": "acme", "api_key": "k"})
    attempt = ValidationAttempt.objects.get()  # queued: on_commit never ran, like no worker
    assert "taking longer" not in text(user.get(f"attempts/{attempt.id}/?poll=1", htmx=True))
    ValidationAttempt.objects.filter(pk=attempt.pk).update(
        created_at=timezone.now() - timedelta(minutes=1), dispatched_at=timezone.now()
    )
    in_line = text(user.get(f"attempts/{attempt.id}/?poll=1", htmx=True))
    assert "waiting its turn" in in_line and "hx-trigger" in in_line  # no worker took it yet
    ValidationAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.RUNNING)
    slow = text(user.get(f"attempts/{attempt.id}/?poll=1", htmx=True))
    assert "taking longer than usual" in slow and "hx-trigger" in slow  # still polling


# --- leaving and coming back ---------------------------------------------------------------


def test_opening_the_link_again_resumes_at_the_last_screen(end_user):
    user = end_user()
    assert user.get().status_code == 200  # the first screen
    user.get("s/netsuite/")  # two methods: the method screen
    user.get("s/netsuite/m2m/")  # its guide
    reopened = Client().get(user.base)
    assert reopened.status_code == 302 and reopened["Location"] == user.base + "s/netsuite/m2m/"
    assert LinkSession.objects.get(pk=user.session.pk).last_screen == "s/netsuite/m2m/"
    assert "onr_lt_" not in LinkSession.objects.get(pk=user.session.pk).last_screen
    method_screen = user.get("s/netsuite/").content.decode()
    assert f'href="{user.base}systems/"' in method_screen  # Back goes to the list, not forward


def test_a_running_check_is_where_the_link_resumes(end_user):
    user = end_user()
    attempt = ValidationAttempt.objects.create(
        link_session=user.session, system_slug="infoplus", method="api_key", status="running"
    )
    assert Client().get(user.base)["Location"] == f"{user.base}attempts/{attempt.id}/"


def test_leaving_a_hosted_link_returns_to_the_partner(acme, end_user):
    user = end_user(redirect_url=BACK)
    left = user.post("exit/", {"screen": "prepare", "hosted": "1"})
    assert left.status_code == 303
    assert left["Location"] == f"{BACK}?link_session_id={user.session.id}&status=exit"
    assert user.post("exit/", {"screen": "prepare"}).status_code == 204  # embedded


def test_a_locked_or_expired_hosted_link_says_so_on_return(end_user):
    user = end_user(redirect_url=BACK)
    LinkSession.objects.filter(pk=user.session.pk).update(locked_at=user.session.created_at)
    locked = user.get().content.decode()
    assert "data-onramp-close" in locked  # a way out, on the locked screen itself
    left = user.post("exit/", {"hosted": "1"})
    assert left["Location"].endswith("&status=locked")


def test_leaving_a_hosted_link_without_a_return_address(end_user):
    user = end_user()
    page = user.post("exit/", {"hosted": "1"}).content.decode()
    assert "open the same link again" in page


def test_a_failure_says_how_many_tries_remain(end_user, fake_systems, settings):
    settings.ONRAMP_SESSION_MAX_FAILURES = 3
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    sent = user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "no"})
    page = user.get(sent["Location"]).content.decode()
    assert "You can try 2 more times before this link locks" in page


def test_back_from_a_one_method_guide_goes_to_the_list_and_stays_there(end_user):
    user = end_user()
    guide = user.get("s/infoplus/api_key/").content.decode()
    assert f'href="{user.base}systems/"' in guide
    user.get("systems/")
    assert Client().get(user.base).status_code == 302
    assert Client().get(user.base)["Location"] == user.base + "systems/"


def test_a_screen_that_is_gone_is_not_resumed(end_user):
    from catalog.models import System
    from catalog.search import catalog_changed

    user = end_user()
    user.get("s/infoplus/api_key/")
    System.objects.filter(slug="infoplus").update(enabled=False)
    catalog_changed()  # as an operator's switch in the admin does: screens read the catalog
    assert Client().get(user.base).status_code == 200  # the first screen, not a dead end


def test_closing_the_connected_screen_reports_success(end_user):
    user = end_user(redirect_url=BACK)
    LinkSession.objects.filter(pk=user.session.pk).update(validated_at=user.session.created_at)
    left = user.post("exit/", {"screen": "done", "hosted": "1"})
    assert left["Location"].endswith("&status=success")


def test_the_language_switch_returns_only_to_this_links_screens(acme, end_user):
    user = end_user()
    _, other_token = link_session(acme.partner)
    sneaky = f"{user.base}../{other_token}/"
    answer = user.post("language/", {"locale": "fr", "next": sneaky})
    assert answer["Location"] == user.base


# --- whatever the URL ----------------------------------------------------------------------


@FUZZ
@given(path=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40))
def test_flow_urls_never_500(acme, path):
    _, token = link_session(acme.partner)
    response = Client().get(f"/connect/{token}/{path}")
    assert response.status_code < 500
