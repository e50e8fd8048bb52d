"""Validation attempts (``services/attempts.py``) through ordinary faults on the production
path — gunicorn, Celery workers and beat as separate processes, PostgreSQL, Redis — and what
the user and the partner see after each: a worker killed mid-check, a broker outage, queued
checks lost, a database connection dropped, duplicate and racing runs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import requests
from django.db import connection as db
from django.test import Client
from django.utils import timezone

from connections import tasks
from connections.models import Connection, LinkSession, ValidationAttempt
from connections.services.attempts import attempt_run
from tests.factories import link_session
from tests.fakes.base import Trick
from tests.stack import FAST, TIMEOUT, sign_ins, wait_for

# A check ends by its own deadline, give or take workers starting on a busy machine: the bound
# tells "ends" from "hangs", not a speed.
SLACK = 3

DETAILS = "s/infoplus/api_key/details/"
FORM = {"site": "acme", "api_key": "key-1"}


def submit(partner, base_url: str = "") -> tuple[str, ValidationAttempt]:
    """An end user submits Infoplus details; returns their link token and the attempt."""
    _, token = link_session(partner)
    path = f"/connect/{token}/{DETAILS}"
    if base_url:
        response = requests.post(base_url + path, data=FORM, allow_redirects=False, timeout=10)
        assert response.status_code == 303, response.text[:300]
    else:
        assert Client().post(path, FORM).status_code == 303
    return token, ValidationAttempt.objects.latest("created_at")


def final(attempt: ValidationAttempt, timeout: float = 25.0) -> ValidationAttempt:
    def finished():
        attempt.refresh_from_db()
        return attempt if attempt.is_finished else None

    return wait_for(finished, timeout, f"attempt {attempt.id} to finish")


def running(attempt: ValidationAttempt, runs: int = 1) -> None:
    def is_running():
        attempt.refresh_from_db()
        return attempt.status == "running" and attempt.runs == runs

    wait_for(is_running, what=f"run {runs} of {attempt.id}")


def test_a_worker_killed_mid_check_is_replaced_and_the_check_reruns_once(
    faults, acme, fake_systems
):
    fake_systems.infoplus.tricks.append(Trick("stall", seconds=30))
    first = faults.worker(**FAST)
    _, attempt = submit(acme.partner)
    running(attempt)
    wait_for(lambda: sign_ins(fake_systems.infoplus) == 1, what="the remote to be called")
    first.kill()
    faults.beat(**FAST)
    faults.worker(**FAST)
    attempt = final(attempt)
    assert attempt.status == "succeeded" and attempt.runs == 2
    assert attempt.finished_at - attempt.created_at <= timedelta(seconds=TIMEOUT * SLACK)
    assert Connection.objects.get().status == "active"


def test_a_check_whose_worker_dies_twice_ends_saying_so(faults, acme, fake_systems):
    fake_systems.infoplus.tricks += [Trick("stall", seconds=30), Trick("stall", seconds=30)]
    faults.beat(**FAST)
    first = faults.worker(**FAST)
    token, attempt = submit(acme.partner)
    running(attempt)
    first.kill()
    second = faults.worker(**FAST)
    running(attempt, runs=2)
    second.kill()
    faults.worker(**FAST)  # a worker left to run the sweeper
    attempt = final(attempt)
    assert attempt.status == "error" and attempt.error_code == "worker_lost"
    assert attempt.finished_at - attempt.created_at <= timedelta(seconds=TIMEOUT * SLACK)
    page = Client().get(f"/connect/{token}/attempts/{attempt.id}/").content.decode()
    assert "We could not finish checking." in page and "Try again" in page
    assert "hx-trigger" not in page  # no more polling
    assert LinkSession.objects.get().failed_attempts == 0  # our problem, not the user's


def test_a_broker_outage_at_submit_is_no_500_and_the_check_runs_when_it_returns(
    faults, acme, fake_systems
):
    web = faults.gunicorn(CELERY_BROKER_URL="redis://127.0.0.1:1/0", **FAST)
    started = time.monotonic()
    token, attempt = submit(acme.partner, base_url=web)
    assert time.monotonic() - started < 10  # refused at once, never a wait on broker retries
    assert attempt.status == "queued" and attempt.dispatched_at is None
    time.sleep(3.2)
    page = requests.get(f"{web}/connect/{token}/attempts/{attempt.id}/", timeout=5)
    assert page.status_code == 200
    assert "We are having trouble starting the check" in page.text
    faults.worker(**FAST)  # the broker is back (for beat and the worker, it never left)
    faults.beat(**FAST)
    assert final(attempt).status == "succeeded"


def test_a_check_that_never_reached_a_worker_ends_on_the_flow_screen(faults, acme):
    web = faults.gunicorn(CELERY_BROKER_URL="redis://127.0.0.1:1/0", **FAST)
    token, attempt = submit(acme.partner, base_url=web)
    ValidationAttempt.objects.filter(pk=attempt.pk).update(
        created_at=timezone.now() - timedelta(seconds=TIMEOUT + 1)
    )
    page = requests.get(f"{web}/connect/{token}/attempts/{attempt.id}/", timeout=5).text
    assert "could not start yours in time" in page  # without beat: the reader ends it
    attempt.refresh_from_db()
    assert attempt.status == "error"


def test_queued_checks_lost_with_the_broker_are_sent_again_or_ended(faults, acme):
    attempts = [submit(acme.partner)[1] for _ in range(3)]
    faults.purge()  # the broker restarted without persistence: the messages are gone
    past = timezone.now() - timedelta(seconds=TIMEOUT / 2 + 1)  # a lease ago
    ValidationAttempt.objects.update(dispatched_at=past)
    ValidationAttempt.objects.filter(pk=attempts[2].pk).update(
        created_at=timezone.now() - timedelta(seconds=TIMEOUT + 1)
    )
    faults.beat(**FAST)
    faults.worker(**FAST)
    statuses = [final(a).status for a in attempts]
    assert statuses == ["succeeded", "succeeded", "error"]
    assert final(attempts[2]).error_code == "busy"  # it never started: no worker was lost


def test_a_check_slower_than_a_third_of_its_time_is_not_taken_for_dead(faults, acme, fake_systems):
    # Longer than a third of the attempt's time (the lease before), within the deadline.
    fake_systems.infoplus.tricks.append(Trick("stall", seconds=TIMEOUT / 3 + 0.5))
    slow_remote = {"ONRAMP_TEST_READ_TIMEOUT": "5", **FAST}
    faults.beat(**slow_remote)
    faults.worker(**slow_remote)
    faults.worker(**slow_remote)  # a second worker, free to run it again if it lapsed
    _, attempt = submit(acme.partner)
    attempt = final(attempt, timeout=60)
    assert attempt.status == "succeeded" and attempt.runs == 1
    assert sign_ins(fake_systems.infoplus) == 1  # signed in to the customer's system once


def test_a_database_lost_as_a_check_ends_is_retried_by_the_task(faults, acme, fake_systems):
    fake_systems.infoplus.tricks.append(Trick("stall", seconds=1.5))
    faults.worker(PGAPPNAME="onramp-dbfault", **FAST)
    _, attempt = submit(acme.partner)
    wait_for(lambda: sign_ins(fake_systems.infoplus) == 1, what="the remote to be called")
    with db.cursor() as cursor:  # the worker's database connection dies mid-run
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'onramp-dbfault'"
        )
        assert cursor.fetchall()
    attempt = final(attempt)
    # Retried by the task, no beat needed; a database blink spends no run of the budget kept
    # for a dead worker.
    assert attempt.status == "succeeded" and attempt.runs == 1
    assert Connection.objects.count() == 1


def test_the_same_attempt_delivered_four_times_makes_one_connection(faults, acme, fake_systems):
    _, attempt = submit(acme.partner)
    for _ in range(3):
        tasks.run_validation.apply_async((attempt.id,))
    faults.worker(**FAST)
    assert final(attempt).status == "succeeded"
    time.sleep(1)  # let the duplicates be delivered and refused
    assert sign_ins(fake_systems.infoplus) == 1
    assert Connection.objects.count() == 1
    attempt.refresh_from_db()
    assert attempt.runs == 1


def test_racing_runs_of_one_attempt_make_one_connection(faults, acme, fake_systems):
    faults.purge()
    _, attempt = submit(acme.partner)
    faults.purge()  # nobody else runs it
    threads = [
        threading.Thread(target=attempt_run, kwargs={"attempt_id": attempt.id, "run_id": f"r{n}"})
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert final(attempt).status == "succeeded"
    assert Connection.objects.count() == 1 and sign_ins(fake_systems.infoplus) == 1


def test_parallel_submits_make_one_connection_and_no_internal_error(
    faults, acme, fake_systems, live_server
):
    faults.worker(**FAST)
    _, token = link_session(acme.partner)
    url = f"{live_server.url}/connect/{token}/{DETAILS}"
    results: list[int] = []

    def post() -> None:
        response = requests.post(url, data=FORM, allow_redirects=False, timeout=10)
        results.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [303] * 5
    assert final(ValidationAttempt.objects.get()).status == "succeeded"
    assert Connection.objects.count() == 1
    assert not ValidationAttempt.objects.filter(error_code="internal_error").exists()


# --- webhooks -------------------------------------------------------------------------------
