"""State that must stay true: secrets erased stay erased, missing keys are named before they
hurt, a web page is not an API, and health checks move connections only for real reasons."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.utils import timezone

from connections.models import Connection, Event, ValidationAttempt
from connections.security import crypto
from connections.services import encryption as keys
from connections.services.attempts import attempt_sweep
from connections.services.connections import connection_revoke
from connections.services.health import health_checks_start
from tests.factories import connected, link_session
from tests.fakes.base import Trick

pytestmark = pytest.mark.django_db(transaction=True)


# --- re-encryption racing revocation -----------------------------------------------------


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs row locks (PostgreSQL)")
def test_reencrypt_never_brings_back_the_credentials_of_a_revoked_connection(
    acme, settings, monkeypatch
):
    connection, _ = connected(acme.partner)
    settings.ONRAMP_ENCRYPTION_KEYS = (
        f"{crypto.new_key_spec('k3')},{settings.ONRAMP_ENCRYPTION_KEYS}"
    )
    real_decrypt = crypto.decrypt
    revoker = threading.Thread(
        target=lambda: connection_revoke(connection=connection, actor="partner")
    )

    def decrypt_while_revoked(token: str, *, aad: str) -> bytes:
        if not revoker.is_alive() and revoker.ident is None:
            revoker.start()  # the partner revokes while reencrypt holds the old ciphertext
            revoker.join(timeout=1)
        return real_decrypt(token, aad=aad)

    monkeypatch.setattr(crypto, "decrypt", decrypt_while_revoked)
    keys.reencrypt_all()
    revoker.join(timeout=10)
    connection.refresh_from_db()
    assert connection.status == "revoked"
    assert connection.credentials == ""


# --- keys removed from the ring too early -----------------------------------------------


@pytest.fixture
def ring_without_old_key(acme, settings):
    connection, token = connected(acme.partner)
    old = crypto.key_id_of(Connection.objects.get().credentials)
    settings.ONRAMP_ENCRYPTION_KEYS = crypto.new_key_spec("k9")
    return connection, token, old


def test_deploy_checks_name_every_key_still_in_use_but_missing(ring_without_old_key):
    _, _, old = ring_without_old_key
    with pytest.raises(SystemCheckError, match=f"'{old}' still encrypts"):
        call_command("check", "--deploy", "--database", "default")
    with pytest.raises(CommandError, match=old):
        call_command("reencrypt", "--check")


def test_a_missing_key_is_our_error_and_never_breaks_the_connection(
    ring_without_old_key, api, django_capture_on_commit_callbacks
):
    connection, token, _ = ring_without_old_key
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/connections/{connection.id}/revalidate")
    attempt = ValidationAttempt.objects.get(pk=response.json()["attempt_id"])
    assert attempt.status == "error" and attempt.error_code == "internal_error"
    connection.refresh_from_db()
    assert connection.status == "active" and connection.last_error_code == ""
    introspected = api.get("/api/v1/connection", headers={"Authorization": f"Bearer {token}"})
    assert introspected.status_code == 200


# --- an answer that is not the API -------------------------------------------------------


def test_a_web_page_answering_200_is_not_a_working_connection(
    acme, fake_systems, django_capture_on_commit_callbacks
):
    from django.test import Client

    fake_systems.infoplus.sites["acme"] = {"key-1"}
    fake_systems.infoplus.tricks.append(Trick("html"))
    _, token = link_session(acme.partner)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            f"/connect/{token}/s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-1"}
        )
    attempt = ValidationAttempt.objects.get()
    assert attempt.status == "failed" and attempt.error_code == "not_the_api"
    assert "answers, but not like the Infoplus API" in attempt.error_message
    assert not Connection.objects.exists()


# --- the sweeper ------------------------------------------------------------------------------


def test_a_run_whose_lease_lapsed_twice_ends_in_error(acme):
    session, _ = link_session(acme.partner)
    attempt = ValidationAttempt.objects.create(
        link_session=session,
        system_slug="infoplus",
        method="api_key",
        status="running",
        runs=2,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    attempt_sweep()
    attempt.refresh_from_db()
    assert attempt.status == "error" and attempt.error_code == "worker_lost"
    assert attempt.error_message == "We could not finish checking."


def test_a_lapsed_first_run_is_queued_again(
    acme, django_capture_on_commit_callbacks, fake_systems
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    session, _ = link_session(acme.partner)
    attempt = ValidationAttempt(
        link_session=session,
        system_slug="infoplus",
        method="api_key",
        config={"site": "acme"},
        status="running",
        runs=1,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    attempt.credentials = crypto.seal(
        {"api_key": "key-1"}, aad=crypto.associated_data(attempt, "credentials")
    )
    attempt.save()
    assert attempt_sweep()["rerun"] == 1  # tasks run inline here: the re-run happens at once
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and attempt.runs == 2


# --- health checks ------------------------------------------------------------------------


@pytest.fixture
def stored(acme, fake_systems, settings):
    settings.ONRAMP_HEALTHCHECK_TOLERANCE = 3
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, _ = connected(acme.partner)
    return connection


def check_now(connection: Connection, django_capture_on_commit_callbacks) -> Connection:
    Connection.objects.filter(pk=connection.pk).update(next_check_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert health_checks_start() == 1
    connection.refresh_from_db()
    return connection


def kinds(connection: Connection) -> list[str]:
    return list(
        Event.objects.filter(
            connection=connection, kind__in=["connection.invalid", "connection.restored"]
        )
        .order_by("created_at")
        .values_list("kind", flat=True)
    )


def test_network_failures_are_tolerated_until_they_persist(
    stored, fake_systems, django_capture_on_commit_callbacks
):
    fake_systems.infoplus.sites.pop("acme")  # the host now answers 404s: not the API any more
    statuses = []
    for _ in range(3):
        connection = check_now(stored, django_capture_on_commit_callbacks)
        statuses.append(connection.status)
    assert statuses == ["active", "active", "invalid"]
    assert connection.consecutive_failures == 3 and connection.last_error_code == "not_found"
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection = check_now(stored, django_capture_on_commit_callbacks)
    assert connection.status == "active" and connection.consecutive_failures == 0
    assert kinds(connection) == ["connection.invalid", "connection.restored"]
    assert connection.next_check_at > timezone.now() + timedelta(hours=21)


def test_a_sign_in_refused_twice_minutes_apart_invalidates_and_is_not_retried(
    stored, fake_systems, django_capture_on_commit_callbacks
):
    fake_systems.infoplus.sites["acme"] = {"another-key"}
    connection = check_now(stored, django_capture_on_commit_callbacks)
    assert connection.status == "active" and not kinds(connection)  # once could be a hiccup
    connection = check_now(stored, django_capture_on_commit_callbacks)
    assert connection.status == "invalid" and connection.last_error_code == "invalid_credentials"
    event = Event.objects.get(connection=connection, kind="connection.invalid")
    assert event.data["error"]["code"] == "invalid_credentials"
    Connection.objects.filter(pk=connection.pk).update(next_check_at=timezone.now())
    requests_before = len(fake_systems.infoplus.requests)
    assert health_checks_start() == 0  # signing in again could lock the customer's user
    assert len(fake_systems.infoplus.requests) == requests_before


def test_check_times_are_spread_out(acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    times = {connected(acme.partner, end_user_id=f"u{n}")[0].next_check_at for n in range(5)}
    assert len(times) == 5
    spread = max(times) - min(times)
    assert spread > timedelta(minutes=10)


def test_the_database_refuses_a_second_connection_from_one_session(acme):
    from django.db import IntegrityError, transaction

    connection, _ = connected(acme.partner)
    session = connection.origin_session
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(
            partner=acme.partner, system_id="infoplus", end_user_id="u", origin_session=session
        )
