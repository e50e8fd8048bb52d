"""Sending a batch of webhook deliveries at once (``services/webhook_sends.py``): a slow
endpoint takes at most its budget of a worker's send slots, and another endpoint's delivery
goes out meanwhile; one subject's deliveries to one endpoint go in the order they were
written."""

from __future__ import annotations

import pytest

from connections.models import WebhookDelivery
from connections.services.connections import connection_record_check
from connections.services.webhook_deliveries import webhook_deliver
from connections.services.webhooks import webhook_endpoint_create, webhook_test_send
from connections.verification.failures import describe
from tests.factories import connected

pytestmark = pytest.mark.django_db


def endpoint(acme, receiver, path: str):
    made, secret = webhook_endpoint_create(
        partner=acme.partner, url=f"https://hooks.acme.test{path}", events=[], actor="test"
    )
    receiver.secrets.append(secret)
    return made


def test_a_slow_endpoint_does_not_hold_up_another_endpoints_delivery(
    acme, fake_systems, settings, django_capture_on_commit_callbacks
):
    settings.ONRAMP_WEBHOOK_TIMEOUT = 5.0
    settings.ONRAMP_WEBHOOK_SEND_SLOTS = 3
    settings.ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT = 2
    receiver = fake_systems.receiver
    receiver.slow["/slow"] = 2.0  # each try there takes 2 s
    slow = endpoint(acme, receiver, "/slow")
    with django_capture_on_commit_callbacks(execute=False):  # queued, not yet sent
        for n in range(4):
            connected(acme.partner, end_user_id=f"user-{n}")  # four deliveries to /slow
        fast = endpoint(acme, receiver, "/fast")
        webhook_test_send(endpoint=fast, actor="test")  # written last: one delivery to /fast
    webhook_deliver()  # one worker's batch: all five, the slow endpoint's first
    delivered = {event["path"]: event for event in reversed(receiver.accepted)}
    first_slow_answer = min(e["received_at"] for e in receiver.accepted if e["path"] == "/slow")
    assert delivered["/fast"]["received_at"] < first_slow_answer  # did not wait behind them
    assert receiver.most_at_once["/slow"] == 2  # its budget, never all three slots
    assert WebhookDelivery.objects.filter(endpoint=slow, status="succeeded").count() == 4
    assert WebhookDelivery.objects.get(endpoint=fast).status == "succeeded"


def test_one_connections_events_to_an_endpoint_go_in_the_order_they_were_written(
    acme, fake_systems, settings, django_capture_on_commit_callbacks
):
    receiver = fake_systems.receiver
    endpoint(acme, receiver, "/onramp")
    with django_capture_on_commit_callbacks(execute=False):
        connection, _ = connected(acme.partner)
        for n in range(6):  # invalid, restored, invalid…
            outcome = describe("forbidden") if n % 2 == 0 else None
            connection_record_check(connection_id=connection.id, outcome=outcome)
        for n in range(6):  # and other connections' events, sent beside them
            connected(acme.partner, end_user_id=f"other-{n}")
    webhook_deliver()
    mine = [e for e in receiver.accepted if e["data"]["connection_id"] == connection.id]
    assert [e["data"]["sequence"] for e in mine] == [1, 2, 3, 4, 5, 6, 7]
    assert len(receiver.accepted) == 13
