"""Sending webhook deliveries (``services/webhook_deliveries.py``) when workers race: a
sender that lost its claim changes nothing. PostgreSQL, Redis and a real Celery worker."""

from __future__ import annotations

import signal
import time

import pytest

from config.celery import app as celery_app
from connections.services.webhook_deliveries import webhook_deliver
from connections.services.webhooks import webhook_endpoint_create, webhook_test_send
from tests.fakes.base import Trick

HOOKS = {"ONRAMP_WEBHOOK_TIMEOUT": "2", "ONRAMP_WEBHOOK_RETRY_SCHEDULE": "1,1,1"}


def wait_for(predicate, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def hooks(stack, acme, fake_systems, settings):
    """An endpoint whose receiver verifies signatures; 2 s to answer (a lease of 3 s)."""
    settings.ONRAMP_WEBHOOK_TIMEOUT = 2.0
    settings.ONRAMP_WEBHOOK_RETRY_SCHEDULE = [1, 1, 1]
    endpoint, secret = webhook_endpoint_create(
        partner=acme.partner, url="https://hooks.acme.test/onramp", events=[], actor="test"
    )
    fake_systems.receiver.secrets.append(secret)
    return endpoint


def idle(worker_name: str) -> bool:
    active = celery_app.control.inspect([worker_name], timeout=1).active() or {}
    return active.get(worker_name) == []


def test_a_sender_paused_past_its_lease_cannot_undo_another_workers_success(
    stack, hooks, fake_systems
):
    receiver = fake_systems.receiver
    receiver.tricks.append(Trick("stall", seconds=1))
    receiver.answers.append(500)  # the first try fails, after a second
    late = stack.worker(**HOOKS)
    delivery = webhook_test_send(endpoint=hooks, actor="test")
    wait_for(lambda: len(receiver.requests) == 1, what="the first try to reach the receiver")
    late.popen.send_signal(signal.SIGSTOP)  # paused mid-request (a GC pause, a slow host)
    try:
        time.sleep(3.5)  # past its 3-second lease; the receiver has answered 500 meanwhile
        webhook_deliver(delivery_id=delivery.id)  # another worker claims it and succeeds
        delivery.refresh_from_db()
        assert delivery.status == "succeeded" and len(receiver.accepted) == 1
    finally:
        late.popen.send_signal(signal.SIGCONT)
    wait_for(lambda: idle(late.name), what="the paused worker to finish its try")
    time.sleep(2.5)  # time for a retry (1 s) it might have scheduled
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert delivery.claimed_until is None and delivery.last_status_code == 200
    assert len(receiver.requests) == 2  # never sent a third time


def test_a_delivery_cannot_be_resent_while_a_try_of_it_is_in_flight(
    stack, hooks, acme, fake_systems
):
    receiver = fake_systems.receiver
    receiver.tricks.append(Trick("stall", seconds=1.5))  # answers 200, within the 2 s allowed
    stack.worker(**HOOKS)
    delivery = webhook_test_send(endpoint=hooks, actor="test")
    resend = f"/api/v1/webhook-deliveries/{delivery.id}/resend"
    wait_for(lambda: len(receiver.requests) == 1, what="the try to reach the receiver")
    refused = acme.client().post(resend)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "delivery_in_flight"
    wait_for(lambda: receiver.accepted, what="the try to be answered")

    def settled():
        delivery.refresh_from_db()
        return delivery.status == "succeeded"

    wait_for(settled, what="the try to be recorded")
    assert acme.client().post(resend).status_code == 202
    wait_for(lambda: len(receiver.accepted) == 2, what="the resend")
    assert {event["id"] for event in receiver.accepted} == {delivery.id}
