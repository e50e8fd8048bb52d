"""Health checks at scale: claimed in turns across partners, run in chunks, three queries per check
beyond the remote's time, and never lost or doubled by a second scheduler or a lost message."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django import db
from django.conf import settings
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app
from config.lanes import Lane, lane_queue
from connections.models import Connection, Event, ValidationAttempt
from connections.services.health import LEASE, health_checks_start
from connections.services.partners import partner_create
from tests.factories import connected

pytestmark = pytest.mark.django_db
CHECKS = 20


@pytest.fixture
def due(acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    made = [connected(acme.partner, end_user_id=f"u{n}")[0] for n in range(CHECKS)]
    Connection.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))
    return made


def statements(captured: CaptureQueriesContext) -> int:
    """Queries sent, not counting the test transaction's savepoints (in production a
    transaction is a BEGIN and a COMMIT around them, not statements of their own)."""
    return sum("SAVEPOINT" not in query["sql"] for query in captured.captured_queries)


def test_each_check_costs_at_most_three_queries_beyond_the_remote(due, fake_systems):
    attempts = ValidationAttempt.objects.count()
    with CaptureQueriesContext(db.connection) as captured:
        assert health_checks_start() == CHECKS
    assert statements(captured) <= 3 * CHECKS + 3  # + claiming the batch
    assert len(fake_systems.infoplus.requests) == CHECKS  # each one called its system
    later = timezone.now() + timedelta(hours=20)
    assert all(c.next_check_at > later for c in Connection.objects.all())
    assert ValidationAttempt.objects.count() == attempts  # no attempt rows, no events
    assert not Event.objects.filter(kind="connection.revalidation_requested").exists()


def test_a_second_scheduler_finds_nothing_and_a_lost_chunk_is_due_again(due, fake_systems):
    if not settings.USING_REDIS:
        pytest.skip("needs a broker to lose the messages on")
    lost = f"lost-{uuid.uuid4().hex[:8]}"  # a queue no worker reads: the chunks are lost
    previous = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, lost
    try:
        assert health_checks_start() == CHECKS
        assert health_checks_start() == 0  # claimed: not sent twice
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(lane_queue(lost, Lane.SCHEDULED))
    assert fake_systems.infoplus.requests == []
    Connection.objects.update(next_check_at=F("next_check_at") - LEASE)  # the lease ends
    assert health_checks_start() == CHECKS  # due again, and this time they run
    assert len(fake_systems.infoplus.requests) == CHECKS


def test_a_status_change_is_still_an_event(due, fake_systems):
    fake_systems.infoplus.sites.pop("acme")  # the address stops answering as the API
    Connection.objects.exclude(pk=due[0].pk).update(next_check_at=timezone.now() + LEASE)
    for _ in range(3):
        Connection.objects.filter(pk=due[0].pk).update(next_check_at=timezone.now())
        assert health_checks_start() == 1
    assert Connection.objects.get(pk=due[0].pk).status == "invalid"
    assert Event.objects.filter(kind="connection.invalid", connection=due[0]).count() == 1


def test_a_large_partners_backlog_never_holds_back_another_partners_checks(due, fake_systems):
    globex, _ = partner_create(name="Globex", origins=[], actor="test")
    theirs = [connected(globex, end_user_id=f"g{n}")[0].pk for n in range(3)]
    Connection.objects.filter(pk__in=theirs).update(next_check_at=timezone.now())  # the newest
    assert health_checks_start(batch=6) == 6  # Acme has 20 due, all of them older
    checked = set(
        Connection.objects.filter(
            next_check_at__gt=timezone.now() + timedelta(hours=1)
        ).values_list("pk", flat=True)
    )
    assert set(theirs) <= checked and len(checked) == 6
