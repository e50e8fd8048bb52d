"""A submit whose check ends quickly answers with its result, with no poll in between; a
longer one shows its progress, polled more often once only the last step is left."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from connections.models import ValidationAttempt
from tests.factories import link_session

HTMX = {"HX-Request": "true"}
DETAILS = "s/infoplus/api_key/details/"


@pytest.fixture
def infoplus(acme, fake_systems):
    """A new link's address, for Infoplus details that pass (``key-1``)."""
    fake_systems.infoplus.sites["acme"] = {"key-1"}

    def new_link() -> str:
        return f"/connect/{link_session(acme.partner)[1]}/"

    return new_link


@pytest.mark.django_db(transaction=True)  # committed: the check runs as the submit commits
@pytest.mark.parametrize("htmx", [False, True])
def test_a_quick_check_goes_straight_to_the_done_screen(infoplus, htmx):
    base = infoplus()
    form = {"site": "acme", "api_key": "key-1"}
    submitted = Client().post(base + DETAILS, form, headers=HTMX if htmx else {})
    if htmx:
        assert submitted["HX-Redirect"] == base + "done/"
    else:
        assert submitted.status_code == 303 and submitted["Location"] == base + "done/"


@pytest.mark.django_db(transaction=True)
def test_a_quick_failure_shows_what_to_fix_at_once(infoplus):
    base = infoplus()
    answer = Client().post(base + DETAILS, {"site": "acme", "api_key": "nope"}, headers=HTMX)
    attempt = ValidationAttempt.objects.get()
    assert answer["HX-Push-Url"] == f"{base}attempts/{attempt.id}/"
    page = answer.content.decode()
    assert "rejected these credentials" in page and "hx-trigger" not in page  # no poll


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("steps", "delay"),
    [
        ({}, 700),
        ({"reach": "done"}, 700),
        ({"reach": "done", "authenticate": "done", "test_call": "done"}, 150),
    ],
)
def test_the_progress_screen_polls_sooner_near_the_end(acme, steps, delay):
    session, token = link_session(acme.partner)
    attempt = ValidationAttempt.objects.create(
        link_session=session, system_slug="infoplus", method="api_key", status="running"
    )
    ValidationAttempt.objects.filter(pk=attempt.pk).update(steps=steps)
    page = Client().get(f"/connect/{token}/attempts/{attempt.id}/?poll=1", headers=HTMX)
    trigger = re.search(r'hx-trigger="load delay:(\d+)ms"', page.content.decode())
    assert int(trigger.group(1)) == delay
