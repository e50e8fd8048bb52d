"""Starting validation attempts (``services/validation.py``): one in flight per session however
submits race, budgets per end user, per partner and host, then per host, and revalidations
throttled per connection; the secrets typed in never reach the database, the logs or a
page except as ciphertext."""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.apps import apps
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.test import Client

from connections.models import Connection, LinkSession, ValidationAttempt
from connections.security import crypto
from tests.end_user import HTMX
from tests.factories import connected, link_session
from tests.fakes.mintsoft import MintsoftUser

MINTSOFT_DETAILS = "s/mintsoft/login/details/"
needs_postgres = pytest.mark.skipif(
    not django_settings.USING_POSTGRES,
    reason="parallel requests need PostgreSQL (SQLite serialises writers)",
)


# --- one attempt in flight per session ---------------------------------------------------------


@needs_postgres
def test_parallel_wrong_passwords_never_exceed_the_failure_limit(
    end_user, onramp_server, fake_systems, settings
):
    settings.ONRAMP_SESSION_MAX_FAILURES = 3
    settings.ONRAMP_VALIDATIONS_PER_END_USER_MINUTE = 100
    user = end_user()
    url = onramp_server + user.base + MINTSOFT_DETAILS

    def submit(_: int) -> int:
        form = {"username": "ops", "password": "wrong"}
        return requests.post(url, data=form, allow_redirects=False, timeout=20).status_code

    statuses = []
    with ThreadPoolExecutor(max_workers=20) as pool:
        for _ in range(6):  # waves of 20 at once, as a script would send them
            statuses += pool.map(submit, range(20))
    sign_ins = [r for r in fake_systems.mintsoft.requests if r.path == "/api/Auth"]
    assert len(sign_ins) == 3
    assert ValidationAttempt.objects.count() == 3
    assert set(statuses) == {303, 403}  # to the attempt in flight, or "this link is locked"
    assert LinkSession.objects.get().locked_at is not None


def test_the_database_refuses_a_second_attempt_in_flight(acme):
    session, _ = link_session(acme.partner)
    ValidationAttempt.objects.create(link_session=session, system_slug="mintsoft", method="login")
    with pytest.raises(IntegrityError), transaction.atomic():
        ValidationAttempt.objects.create(
            link_session=session, system_slug="mintsoft", method="login", status="running"
        )


def test_a_second_submit_while_one_is_queued_shows_that_one(end_user, fake_systems):
    user = end_user()
    form = {"username": "ops", "password": "pw"}
    first = user.post(MINTSOFT_DETAILS, form)  # the worker has not run yet
    second = user.post(MINTSOFT_DETAILS, form)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert ValidationAttempt.objects.count() == 1


# --- budgets: per end user, per partner and host, then per host --------------------------------


def submit_mintsoft(partner, end_user_id: str) -> int:
    _, token = link_session(partner, end_user_id=end_user_id)
    form = {"username": "ops", "password": "wrong"}
    return Client().post(f"/connect/{token}/{MINTSOFT_DETAILS}", form).status_code


@pytest.fixture
def tight_limits(settings, fake_systems):
    settings.ONRAMP_VALIDATIONS_PER_END_USER_MINUTE = 2
    settings.ONRAMP_VALIDATIONS_PER_HOST_MINUTE = 4
    settings.ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL = 6
    return settings


def test_one_end_user_cannot_spend_another_end_users_budget(acme, tight_limits):
    statuses = [submit_mintsoft(acme.partner, "mallory") for _ in range(5)]
    assert statuses == [303, 303, 429, 429, 429]
    assert submit_mintsoft(acme.partner, "alice") == 303


def test_one_partner_cannot_block_a_shared_host_for_other_partners(acme, tight_limits):
    from connections.services.partners import partner_create

    other, _ = partner_create(name="Globex", origins=[], actor="test")
    acme_statuses = [submit_mintsoft(acme.partner, f"user-{n}") for n in range(6)]
    assert acme_statuses == [303] * 4 + [429] * 2
    assert submit_mintsoft(other, "someone") == 303
    assert submit_mintsoft(other, "someone-else") == 303
    # The remote's own ceiling (6 a minute for everyone) holds across partners.
    assert submit_mintsoft(other, "a-third") == 429


def test_a_refusal_says_when_to_come_back(acme, end_user, tight_limits):
    for _ in range(2):
        submit_mintsoft(acme.partner, "mallory")
    user = end_user(end_user_id="mallory")
    form = {"username": "ops", "password": "wrong"}
    refused = user.post(MINTSOFT_DETAILS, form, headers=HTMX)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "Wait a minute" in refused.content.decode()


# --- revalidations ------------------------------------------------------------------------------


def test_revalidation_is_throttled_per_connection(
    acme, api, fake_systems, django_capture_on_commit_callbacks, rate_clock
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, _ = connected(acme.partner)
    path = f"/api/v1/connections/{connection.id}/revalidate"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(path).status_code == 202
    again = api.post(path)
    assert again.status_code == 429 and int(again["Retry-After"]) <= 60
    assert again.json()["error"]["code"] == "rate_limited"
    rate_clock(61)
    assert api.post(path).status_code == 202


def test_a_revalidation_in_flight_is_returned_not_repeated(acme, api, rate_clock):
    connection, _ = connected(acme.partner)
    path = f"/api/v1/connections/{connection.id}/revalidate"
    first = api.post(path).json()  # on_commit never runs here: it stays queued
    rate_clock(61)
    second = api.post(path).json()
    assert first["attempt_id"] == second["attempt_id"]


def database_text() -> str:
    """Every value of every row, as text: what a database dump would show."""
    rows = []
    for model in apps.get_models():
        rows += [str(values) for values in model.objects.values_list()]
    return "\n".join(rows)


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_canary_secrets_never_reach_the_database_logs_or_html(
    end_user, fake_systems, everything_logged
):
    key_canary = "canary-key-" + secrets.token_hex(8)
    password_canary = "canary-pw-" + secrets.token_hex(8)
    fake_systems.infoplus.sites["acme"] = {key_canary}
    fake_systems.mintsoft.users["ops"] = MintsoftUser(password_canary)
    pages = end_user().walk(
        "s/infoplus/api_key/details/",
        {"site": "acme", "api_key": key_canary},
    )
    pages += end_user().walk(
        "s/mintsoft/login/details/",
        {"username": "ops", "password": password_canary},
    )
    pages += end_user().walk(
        "s/mintsoft/login/details/",  # a failure too
        {"username": "ops", "password": password_canary + "x"},
    )
    assert Connection.objects.filter(status="active").count() == 2
    assert any("is connected" in page for page in pages)

    dump = database_text()
    logs = "\n".join(record.getMessage() for record in everything_logged.records)
    for canary in (key_canary, password_canary):
        assert canary not in dump
        assert canary not in logs
        assert all(canary not in page for page in pages)
    # …while the ciphertext does hold them, under the current key.
    connection = Connection.objects.get(system_id="infoplus")
    assert crypto.unseal(
        connection.credentials, aad=crypto.associated_data(connection, "credentials")
    ) == {"api_key": key_canary}
