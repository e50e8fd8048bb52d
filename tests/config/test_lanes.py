"""Lanes (``config/lanes.py``): scheduled work and webhook deliveries wait in queues of their
own, so a backlog there never delays what a person is waiting for."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from config.lanes import LANE_OF, Lane, lane_queues
from connections import tasks
from connections.models import AttemptStatus, Connection
from connections.services.health import health_checks_start
from tests.connections.services.test_attempts_faults import final, submit
from tests.factories import connected
from tests.stack import FAST, wait_for


def test_every_lane_names_a_task_that_exists():
    from config.celery import app

    assert set(LANE_OF) <= set(app.tasks)


def test_a_backlog_of_health_checks_never_delays_a_validation(faults, acme):
    checked = [connected(acme.partner, end_user_id=f"user-{n}")[0].pk for n in range(30)]
    Connection.objects.update(
        next_check_at=timezone.now() - timedelta(minutes=1), last_checked_at=None
    )
    assert health_checks_start() == 30  # queued in the scheduled lane, nobody consuming it
    faults.worker(lanes=("",), **FAST)  # a worker for what people wait for

    _, attempt = submit(acme.partner)
    assert final(attempt).status == AttemptStatus.SUCCEEDED
    assert not Connection.objects.filter(pk__in=checked, last_checked_at__isnull=False).exists()

    faults.worker(lanes=(Lane.SCHEDULED,))  # the backlog waited in its lane, and is not lost
    wait_for(
        lambda: not Connection.objects.filter(pk__in=checked, last_checked_at=None).exists(),
        60,
        "the queued health checks to run",
    )


def test_a_task_is_queued_once_on_its_own_lane(stack, acme):
    from config.celery import app

    stack.worker(lanes=(Lane.WEBHOOKS,))  # declares its queue (bound by its own name only)
    _, attempt = submit(acme.partner)  # waits on the default queue, which nobody consumes
    connected(acme.partner, end_user_id="due")
    Connection.objects.update(next_check_at=timezone.now() - timedelta(minutes=1))
    health_checks_start()
    with app.connection_for_write() as broker:
        redis = broker.default_channel.client
        waiting = {
            queue: sorted(json.loads(m)["headers"]["task"] for m in redis.lrange(queue, 0, -1))
            for queue in lane_queues(stack.queue)
        }
    assert tasks.run_validation.name in waiting[stack.queue]
    assert waiting[f"{stack.queue}-scheduled"] == [tasks.run_health_checks.name]
    assert waiting[f"{stack.queue}-webhooks"] == []
    assert all(waiting[queue].count(tasks.run_validation.name) <= 1 for queue in waiting)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.QUEUED  # the webhooks worker never took it
