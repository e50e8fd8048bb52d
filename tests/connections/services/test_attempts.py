"""Runs of validation attempts (``services/attempts.py``): the sweeper ends a run whose lease
lapsed twice and queues a lapsed first run again; finished steps never contradict each
other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import ValidationAttempt
from connections.security import crypto
from connections.services.attempts import attempt_sweep, settled_steps
from tests.factories import link_session


@pytest.mark.django_db(transaction=True)
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


@pytest.mark.django_db(transaction=True)
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
