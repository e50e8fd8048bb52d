"""Fair admission of live checks (``services/admission.py``), on the production path: one
partner's burst waits in that partner's own line while another partner's customer is checked
at once, and every check of the burst still runs (none ends as busy or lost)."""

from __future__ import annotations

from django.test import Client

from connections.models import AttemptStatus, ValidationAttempt
from connections.services.partners import partner_create
from tests.connections.services.test_attempts_faults import final, submit
from tests.factories import link_session
from tests.fakes.base import Trick
from tests.stack import wait_for

SANDBOX = {"company": "demo", "username": "demo", "password": "sandbox-demo"}


def sandbox_submit(partner) -> ValidationAttempt:
    _, token = link_session(partner)
    answer = Client().post(f"/connect/{token}/s/sandbox-erp/password/details/", SANDBOX)
    assert answer.status_code == 303
    return ValidationAttempt.objects.latest("created_at")


def test_a_burst_of_one_partners_checks_waits_in_its_own_line(faults, acme, fake_systems):
    # Each of the burst's checks waits 12 s on Infoplus: far longer than submitting them all.
    fake_systems.infoplus.tricks.extend(Trick("stall", seconds=12) for _ in range(6))
    faults.worker(
        threads=4,
        ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER="2",
        ONRAMP_TEST_READ_TIMEOUT="20",
        ONRAMP_TEST_DEADLINE="25",
    )
    burst = [submit(acme.partner)[1] for _ in range(6)]
    wait_for(lambda: ValidationAttempt.objects.filter(status="running").count() == 2)

    globex, _ = partner_create(name="Globex", origins=["https://app.globex.test"], actor="test")
    other = final(sandbox_submit(globex), 60)  # four threads, two taken: a free one runs it

    assert other.status == AttemptStatus.SUCCEEDED
    finished = [final(attempt, 120) for attempt in burst]
    assert other.finished_at < min(attempt.finished_at for attempt in finished)
    assert [attempt.status for attempt in finished] == [AttemptStatus.SUCCEEDED] * 6
    assert max(attempt.runs for attempt in finished) == 1  # waited in line, never re-run
