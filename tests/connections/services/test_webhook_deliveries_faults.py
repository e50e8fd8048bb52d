"""Webhook deliveries (``services/webhook_deliveries.py``) through faults on the production
path: a worker killed mid-delivery, and events written while the broker is down."""

from __future__ import annotations

import pytest
import requests

from connections.models import WebhookDelivery
from tests.fakes.base import Trick
from tests.stack import FAST, wait_for


@pytest.fixture
def hooks(faults, acme, fake_systems, settings):
    """An endpoint for Acme whose receiver verifies signatures; 2 s to answer each try."""
    from connections.services.webhooks import webhook_endpoint_create

    settings.ONRAMP_WEBHOOK_TIMEOUT = 2.0
    endpoint, secret = webhook_endpoint_create(
        partner=acme.partner, url="https://hooks.acme.test/onramp", events=[], actor="test"
    )
    fake_systems.receiver.secrets.append(secret)
    return endpoint


HOOKS = {**FAST, "ONRAMP_WEBHOOK_TIMEOUT": "2"}


def test_a_worker_killed_mid_delivery_still_delivers(faults, hooks, fake_systems):
    from connections.services.webhooks import webhook_test_send

    receiver = fake_systems.receiver
    receiver.tricks.append(Trick("hang", seconds=30))
    first = faults.worker(**HOOKS)
    delivery = webhook_test_send(endpoint=hooks, actor="test")
    wait_for(lambda: len(receiver.requests) == 1, what="the first try to reach the receiver")
    first.kill()
    faults.beat(**HOOKS)
    faults.worker(**HOOKS)
    wait_for(lambda: receiver.accepted, what="the delivery to be verified")
    assert receiver.accepted[0]["id"] == delivery.id
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_events_written_during_a_broker_outage_are_delivered_after_it(
    faults, hooks, acme, fake_systems
):
    from tests.factories import connected

    connection, _ = connected(acme.partner)
    web = faults.gunicorn(CELERY_BROKER_URL="redis://127.0.0.1:1/0", **HOOKS)
    revoked = requests.delete(
        f"{web}/api/v1/connections/{connection.id}",
        headers={"Authorization": f"Bearer {acme.secret}"},
        timeout=10,
    )
    assert revoked.status_code == 200  # the outage is not the partner's problem
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(event__kind="connection.revoked").first(),
        what="the revocation's delivery",
    )
    assert delivery.dispatched_at is None
    faults.beat(**HOOKS)
    faults.worker(**HOOKS)
    wait_for(lambda: "connection.revoked" in fake_systems.receiver.types(), what="delivery")
