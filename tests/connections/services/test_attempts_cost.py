"""A validation's cost and its signs of life: one full validation (issue 17: at most 15
queries; it took 32 with 11 UPDATEs), and the progress a slow system lets the end user see,
each stage written with the run's lease renewed before the run waits again."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.registry import get_definition
from connections.models import Connection, LinkSession, ValidationAttempt
from connections.services.attempts import attempt_run
from connections.services.validation import attempt_start
from tests.factories import link_session
from tests.fakes.base import Trick
from tests.fakes.mintsoft import MintsoftUser

MAX_QUERIES = 15
SANDBOX = {"company": "demo", "username": "demo"}


def start(session: LinkSession, slug: str, config: dict, credentials: dict) -> ValidationAttempt:
    definition = get_definition(slug)
    return attempt_start(
        session=session,
        definition=definition,
        method=definition.recommended_method,
        config=config,
        credentials=credentials,
        client_ip="203.0.113.9",
    )


@pytest.mark.django_db(transaction=True)  # real commits: the check runs as its submit commits
def test_one_validation_makes_at_most_15_queries(acme, onramp_server):
    session, _ = link_session(acme.partner)
    with CaptureQueriesContext(connection) as queries:
        attempt = start(session, "sandbox-erp", SANDBOX, {"password": "sandbox-demo"})
    sql = [query["sql"] for query in queries.captured_queries]
    attempt.refresh_from_db()
    session.refresh_from_db()
    assert len(sql) <= MAX_QUERIES, "\n".join(sql)
    assert sum(line.startswith("UPDATE") for line in sql) <= 4, "\n".join(sql)
    assert attempt.status == "succeeded" and set(attempt.steps.values()) == {"done"}
    assert session.connection_id and session.validated_at and session.completed_at
    assert attempt.credentials == ""  # the connection holds the secrets, nothing else does


@pytest.mark.django_db(transaction=True)  # the run and the screen read each other's commits
def test_a_slow_system_shows_what_was_reached_and_keeps_the_run_alive(acme, fake_systems):
    fake_systems.mintsoft.users["ops"] = MintsoftUser("s3cret")
    fake_systems.mintsoft.tricks += [Trick("stall", seconds=0.5), Trick("stall", seconds=2)]
    session, token = link_session(acme.partner)
    attempt = ValidationAttempt.objects.create(
        link_session=session, system_slug="mintsoft", method="login", config={"username": "ops"}
    )
    attempt.credentials = _sealed(attempt, {"password": "s3cret"})
    attempt.save(update_fields=["credentials"])
    run = threading.Thread(target=_run_in_thread, args=(attempt.id,))
    run.start()
    try:
        _wait_for(lambda: len(fake_systems.mintsoft.requests) == 1)  # signing in
        claimed = ValidationAttempt.objects.get(pk=attempt.pk)
        _wait_for(lambda: len(fake_systems.mintsoft.requests) == 2)  # signed in; waiting again
        seen = ValidationAttempt.objects.get(pk=attempt.pk)
        poll = Client().get(f"/connect/{token}/attempts/{attempt.id}/?poll=1", HTTP_HX_REQUEST="1")
    finally:
        run.join(timeout=20)
    assert claimed.status == "running" and claimed.steps.get("reach", "pending") == "pending"
    assert seen.steps["reach"] == "done" and seen.claimed_until > claimed.claimed_until
    assert 'class="step step-done"' in poll.content.decode()
    assert ValidationAttempt.objects.get(pk=attempt.pk).status == "succeeded"
    assert Connection.objects.filter(origin_session=session).exists()


def _run_in_thread(attempt_id: str) -> None:
    try:
        attempt_run(attempt_id=attempt_id, run_id="r1")
    finally:
        connection.close()


def _sealed(attempt: ValidationAttempt, secrets: dict) -> str:
    from connections.security import crypto

    return crypto.seal(secrets, aad=crypto.associated_data(attempt, "credentials"))


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
