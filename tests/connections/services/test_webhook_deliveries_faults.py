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


def burst(partner, count: int) -> list[str]:
    """``count`` connections made in one transaction: their deliveries are queued together
    at its commit, as a burst of state changes."""
    from django.db import transaction

    from tests.factories import connected

    with transaction.atomic():
        made = [connected(partner, end_user_id=f"burst-{n}")[0] for n in range(count)]
    return list(
        WebhookDelivery.objects.filter(event__connection__in=made).values_list("pk", flat=True)
    )


def test_a_worker_killed_mid_batch_leaves_nothing_undelivered(faults, hooks, acme, fake_systems):
    """Three deliveries of a batch reached the receiver but their answers never came back when
    the worker died: they are sent again, with the same ``webhook-id`` and body (the receiver
    deduplicates on it), and every other delivery of the batch arrives too."""
    receiver = fake_systems.receiver
    receiver.keep_unanswered = 3
    slow = {  # tries may take 15 s (a lease of 22.5 s): the worker is killed well within
        **FAST,
        "ONRAMP_WEBHOOK_TIMEOUT": "15",
        "ONRAMP_TEST_DEADLINE": "20",
        "ONRAMP_TEST_READ_TIMEOUT": "20",
    }
    first = faults.worker(**slow)
    ids = burst(acme.partner, 12)
    wait_for(lambda: len(receiver.accepted) >= 12, what="every delivery to reach the receiver")
    first.kill()
    in_flight = WebhookDelivery.objects.filter(pk__in=ids, status="pending").exclude(claimed_by="")
    assert in_flight.count() >= 3  # killed mid-batch: at least the unanswered three
    faults.beat(**slow)
    faults.worker(**slow)

    def all_settled():
        return WebhookDelivery.objects.filter(pk__in=ids, status="succeeded").count() == 12

    wait_for(all_settled, timeout=90, what="the killed worker's batch to be sent again")
    copies = {}
    for event in receiver.accepted:
        copies.setdefault(event["id"], []).append(
            (event["type"], event["data"]["connection_id"], event["timestamp"])
        )
    assert set(copies) == set(ids)
    assert sum(len(c) > 1 for c in copies.values()) >= 3  # delivered twice, harmlessly:
    assert all(len(set(c)) == 1 for c in copies.values())  # the same event each time


def test_two_workers_racing_for_a_burst_send_each_delivery_once(faults, hooks, acme, fake_systems):
    receiver = fake_systems.receiver
    calm = {**FAST, "ONRAMP_WEBHOOK_TIMEOUT": "10"}  # no lease lapses on a busy machine
    faults.worker(threads=4, **calm)
    faults.worker(threads=4, **calm)
    ids = burst(acme.partner, 60)  # 60 messages, shared out between the two workers
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk__in=ids, status="succeeded").count() == 60,
        timeout=90,
        what="the burst to be delivered",
    )
    sent = [request.headers["webhook-id"] for request in receiver.requests]
    assert sorted(sent) == sorted(ids)  # each once: no claim was taken twice
    assert WebhookDelivery.objects.filter(pk__in=ids, attempts=1).count() == 60
