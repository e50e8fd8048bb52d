"""Runs of validation attempts (``services/attempts.py``): the sweeper ends a run whose lease
lapsed twice and queues a lapsed first run again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import ValidationAttempt
from connections.security import crypto
from connections.services.attempts import attempt_sweep
from tests.factories import link_session

pytestmark = pytest.mark.django_db(transaction=True)


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
