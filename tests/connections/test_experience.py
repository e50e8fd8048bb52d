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
HTMX = {"HX-Request": "true"}
BACK = "https://app.acme.test/connected"


@pytest.fixture
def user(acme):
    def open_flow(**spec) -> tuple[Client, str, LinkSession]:
        session, token = link_session(acme.partner, **spec)
        return Client(), f"/connect/{token}/", session

    return open_flow


def test_opening_the_link_again_resumes_at_the_last_screen(user):
    client, base, session = user()
    assert client.get(base).status_code == 200  # the first screen
    client.get(base + "s/netsuite/")  # two methods: the method screen
    client.get(base + "s/netsuite/m2m/")  # its guide
    reopened = Client().get(base)
    assert reopened.status_code == 302 and reopened["Location"] == base + "s/netsuite/m2m/"
    assert LinkSession.objects.get(pk=session.pk).last_screen == "s/netsuite/m2m/"
    assert "onr_lt_" not in LinkSession.objects.get(pk=session.pk).last_screen
    method_screen = client.get(base + "s/netsuite/").content.decode()
    assert f'href="{base}systems/"' in method_screen  # Back goes to the list, not forward


def test_a_running_check_is_where_the_link_resumes(user):
    _, base, session = user()
    attempt = ValidationAttempt.objects.create(
        link_session=session, system_slug="infoplus", method="api_key", status="running"
    )
    assert Client().get(base)["Location"] == f"{base}attempts/{attempt.id}/"


def test_typed_values_are_kept_but_never_secrets(user):
    client, base, session = user()
    saved = client.post(
        base + "s/infoplus/api_key/draft/", {"site": "acme-draft", "api_key": "key-SECRET"}
    )
    assert saved.status_code == 204
    drafts = LinkSession.objects.get(pk=session.pk).drafts
    assert drafts == {"infoplus:api_key": {"site": "acme-draft"}}
    html = Client().get(base + "s/infoplus/api_key/details/").content.decode()
    assert 'value="acme-draft"' in html and "key-SECRET" not in html


def test_leaving_a_hosted_link_returns_to_the_partner(acme, user):
    client, base, session = user(redirect_url=BACK)
    left = client.post(base + "exit/", {"screen": "prepare", "hosted": "1"})
    assert left.status_code == 303
    assert left["Location"] == f"{BACK}?link_session_id={session.id}&status=exit"
    assert client.post(base + "exit/", {"screen": "prepare"}).status_code == 204  # embedded


def test_a_locked_or_expired_hosted_link_says_so_on_return(user):
    client, base, session = user(redirect_url=BACK)
    LinkSession.objects.filter(pk=session.pk).update(locked_at=session.created_at)
    locked = client.get(base).content.decode()
    assert "data-onramp-close" in locked  # a way out, on the locked screen itself
    left = client.post(base + "exit/", {"hosted": "1"})
    assert left["Location"].endswith("&status=locked")


def test_leaving_a_hosted_link_without_a_return_address(user):
    client, base, _ = user()
    page = client.post(base + "exit/", {"hosted": "1"}).content.decode()
    assert "open the same link again" in page


def test_a_failed_submit_lists_each_problem_and_says_why_secrets_are_empty(user):
    client, base, _ = user()
    details = base + "s/sandbox-erp/password/details/"
    answer = client.post(details, {"company": "", "password": "x"})
    html = answer.content.decode()
    assert answer.status_code == 422
    summary = html[html.index('id="error-summary"') : html.index("</ul>")]
    assert 'href="#id_company"' in summary and 'href="#id_username"' in summary
    assert "we cleared this field" in html and 'value="x"' not in html


def test_secrets_can_be_shown_and_identifiers_are_not_masked(user):
    client, base, _ = user()
    html = client.get(base + "s/netsuite/tba/details/").content.decode()
    assert re.search(r'<input type="text"[^>]*id="id_consumer_key"', html)
    assert re.search(r'<input type="text"[^>]*id="id_token_id"', html)
    assert re.search(r'<input type="password"[^>]*id="id_token_secret"', html)
    assert 'data-reveal="id_token_secret"' in html and 'data-reveal="id_token_id"' not in html


def test_a_failure_says_how_many_tries_remain(
    user, fake_systems, settings, django_capture_on_commit_callbacks
):
    settings.ONRAMP_SESSION_MAX_FAILURES = 3
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    client, base, _ = user()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(base + "s/infoplus/api_key/details/", {"site": "acme", "api_key": "no"})
    page = client.get(sent["Location"]).content.decode()
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


def test_back_from_a_one_method_guide_goes_to_the_list_and_stays_there(user):
    client, base, _ = user()
    guide = client.get(base + "s/infoplus/api_key/").content.decode()
    assert f'href="{base}systems/"' in guide
    client.get(base + "systems/")
    assert Client().get(base).status_code == 302
    assert Client().get(base)["Location"] == base + "systems/"


def test_a_screen_that_is_gone_is_not_resumed(user):
    from catalog.models import System
    from catalog.search import catalog_changed

    client, base, _ = user()
    client.get(base + "s/infoplus/api_key/")
    System.objects.filter(slug="infoplus").update(enabled=False)
    catalog_changed()  # as an operator's switch in the admin does: screens read the catalog
    assert Client().get(base).status_code == 200  # the first screen, not a dead end


def test_closing_the_connected_screen_reports_success(user):
    client, base, session = user(redirect_url=BACK)
    LinkSession.objects.filter(pk=session.pk).update(validated_at=session.created_at)
    left = client.post(base + "exit/", {"screen": "done", "hosted": "1"})
    assert left["Location"].endswith("&status=success")


def test_the_language_switch_returns_only_to_this_links_screens(acme, user):
    client, base, _ = user()
    _, other_token = link_session(acme.partner)
    sneaky = f"{base}../{other_token}/"
    answer = client.post(base + "language/", {"locale": "fr", "next": sneaky})
    assert answer["Location"] == base
