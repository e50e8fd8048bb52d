"""Leaving and coming back, a way out of every dead end, forms that say what to fix, and
failures that say how many tries remain."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from connections.models import LinkSession, ValidationAttempt
from connections.services.attempts import settled_steps
from tests.factories import link_session

pytestmark = pytest.mark.django_db
BACK = "https://app.acme.test/connected"


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


def test_typed_values_are_kept_but_never_secrets(end_user):
    user = end_user()
    saved = user.post("s/infoplus/api_key/draft/", {"site": "acme-draft", "api_key": "key-SECRET"})
    assert saved.status_code == 204
    drafts = LinkSession.objects.get(pk=user.session.pk).drafts
    assert drafts == {"infoplus:api_key": {"site": "acme-draft"}}
    html = Client().get(user.base + "s/infoplus/api_key/details/").content.decode()
    assert 'value="acme-draft"' in html and "key-SECRET" not in html


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


def test_a_failed_submit_lists_each_problem_and_says_why_secrets_are_empty(end_user):
    user = end_user()
    details = "s/sandbox-erp/password/details/"
    answer = user.post(details, {"company": "", "password": "x"})
    html = answer.content.decode()
    assert answer.status_code == 422
    summary = html[html.index('id="error-summary"') : html.index("</ul>")]
    assert 'href="#id_company"' in summary and 'href="#id_username"' in summary
    assert "we cleared this field" in html and 'value="x"' not in html


def test_secrets_can_be_shown_and_identifiers_are_not_masked(end_user):
    user = end_user()
    html = user.get("s/netsuite/tba/details/").content.decode()
    assert re.search(r'<input type="text"[^>]*id="id_consumer_key"', html)
    assert re.search(r'<input type="text"[^>]*id="id_token_id"', html)
    assert re.search(r'<input type="password"[^>]*id="id_token_secret"', html)
    assert 'data-reveal="id_token_secret"' in html and 'data-reveal="id_token_id"' not in html


def test_a_failure_says_how_many_tries_remain(end_user, fake_systems, settings):
    settings.ONRAMP_SESSION_MAX_FAILURES = 3
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    user = end_user()
    sent = user.submit("s/infoplus/api_key/details/", {"site": "acme", "api_key": "no"})
    page = user.get(sent["Location"]).content.decode()
    assert "You can try 2 more times before this link locks" in page


def test_finished_steps_never_contradict_each_other():
    running_then_failed = {"reach": "running", "authenticate": "failed", "test_call": "running"}
    assert settled_steps(running_then_failed) == {
        "reach": "done",
        "authenticate": "failed",
        "test_call": "pending",
        "permissions": "pending",
    }
    assert settled_steps({"reach": "running"}, "test_call") == {
        "reach": "done",
        "authenticate": "done",
        "test_call": "failed",
        "permissions": "pending",
    }
    assert set(settled_steps({}).values()) == {"done"}


def test_back_from_a_one_method_guide_goes_to_the_list_and_stays_there(end_user):
    user = end_user()
    guide = user.get("s/infoplus/api_key/").content.decode()
    assert f'href="{user.base}systems/"' in guide
    user.get("systems/")
    assert Client().get(user.base).status_code == 302
    assert Client().get(user.base)["Location"] == user.base + "systems/"


def test_a_screen_that_is_gone_is_not_resumed(end_user):
    from catalog.models import System

    user = end_user()
    user.get("s/infoplus/api_key/")
    System.objects.filter(slug="infoplus").update(enabled=False)
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
