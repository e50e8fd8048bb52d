"""Health checks (``services/health.py``, outcomes kept by ``services/connections.py``):
network failures are tolerated until they persist, a sign-in refused twice minutes apart
invalidates and is not retried, check times are spread out, and beat runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import Connection, Event
from connections.services.health import health_checks_start
from tests.factories import connected
from tests.stack import FAST, sign_ins, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


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


# --- on the production path ------------------------------------------------------------------


def test_beat_runs_the_health_checks(faults, acme, fake_systems):
    from tests.factories import connected

    connection, _ = connected(acme.partner)
    Connection.objects.filter(pk=connection.pk).update(next_check_at=timezone.now())
    env = {**FAST, "ONRAMP_HEALTHCHECK_SWEEP_INTERVAL": "0.5"}
    faults.beat(**env)
    faults.worker(**env)

    def checked():  # recorded: the next check a day away, not a claim's lease
        connection.refresh_from_db()
        return connection.next_check_at > timezone.now() + timedelta(hours=1)

    wait_for(checked, what="a health check")
    assert connection.status == "active" and sign_ins(fake_systems.infoplus) == 1
