"""One partner's slow receiver never delays another partner's webhooks (issue 22), on the
production path: real Celery workers, Redis budgets (``services/webhook_budget.py``)."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from connections.models import WebhookDelivery
from connections.services.webhook_budget import (
    PER_SLOT,
    Want,
    over_budget,
    slot_give_back,
    slots_take,
)
from tests.stack import FAST, wait_for

SLOW_S = 12.0  # each try at the slow receiver
SLOW = {
    **FAST,
    "ONRAMP_WEBHOOK_TIMEOUT": "15",  # the slow receiver answers in time: no retries
    "ONRAMP_TEST_READ_TIMEOUT": "20",
    "ONRAMP_TEST_DEADLINE": "25",
    "ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT": "4",
    "ONRAMP_WEBHOOK_SLOW_BATCHES": "1",  # of the worker's four threads
    "ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT": "2",
}


def endpoint(partner, receiver, path: str):
    from connections.services.webhooks import webhook_endpoint_create

    made, secret = webhook_endpoint_create(
        partner=partner, url=f"https://hooks.acme.test{path}", events=[], actor="test"
    )
    receiver.secrets.append(secret)
    return made


def burst(partner, count: int) -> list[str]:
    """``count`` connections made in one transaction: as many deliveries queued at once."""
    from tests.factories import connected

    with transaction.atomic():
        made = [connected(partner, end_user_id=f"burst-{n}")[0] for n in range(count)]
    return list(
        WebhookDelivery.objects.filter(event__connection__in=made).values_list("pk", flat=True)
    )


def flip(connection_id: str, n: int) -> float:
    """A state change of the connection (one event); when it committed."""
    from connections.services.connections import connection_record_check
    from connections.verification.failures import describe

    outcome = describe("forbidden") if n % 2 == 0 else None
    connection_record_check(connection_id=connection_id, outcome=outcome)
    return time.time()


def test_a_slow_receiver_does_not_delay_another_partners_deliveries(
    faults, acme, fake_systems, settings
):
    """Acme's receiver takes 12 s per delivery and 24 of its events come one after another; a
    worker with four threads still delivers another partner's events, written over the next
    7 s, without waiting for Acme's sends (before, each of Acme's tasks held a thread until
    its send ended, and they took all four), in the order they were written."""
    from connections.services.partners import partner_create
    from tests.factories import connected

    receiver = fake_systems.receiver
    receiver.slow["/slow"] = SLOW_S
    other, _ = partner_create(name="Other", origins=[], actor="test")
    customer, _ = connected(other, end_user_id="other-1")
    endpoint(acme.partner, receiver, "/slow")
    endpoint(other, receiver, "/fast")
    faults.worker(threads=4, **SLOW)
    for n in range(24):  # each its own transaction, and its own task
        connected(acme.partner, end_user_id=f"acme-{n}")
    wait_for(lambda: len(receiver.requests) >= 1, what="Acme's first delivery to be under way")
    committed = []
    for n in range(5):
        committed.append(flip(customer.id, n))
        time.sleep(1.5)

    def fast():
        return [e for e in receiver.accepted if e["path"] == "/fast"]

    wait_for(lambda: len(fast()) == 5, timeout=60, what="the other partner's five events")
    waits = [event["received_at"] - at for event, at in zip(fast(), committed, strict=True)]
    assert max(waits) < SLOW_S / 2  # none waited for a slow send to end
    assert [e["data"]["sequence"] for e in fast()] == [2, 3, 4, 5, 6]
    assert receiver.most_at_once["/slow"] <= 4  # the slow endpoint's budget, across batches


def test_a_killed_workers_send_budget_heals(faults, acme, fake_systems, settings):
    """A worker dies while it holds every slot of an endpoint's budget: the slots lapse with
    the deliveries' lease, and another worker sends everything, within the budget."""
    receiver = fake_systems.receiver
    receiver.slow["/hooks"] = 30.0  # hangs past the kill
    endpoint(acme.partner, receiver, "/hooks")
    env = {**SLOW, "ONRAMP_WEBHOOK_TIMEOUT": "4", "ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT": "2"}
    env["ONRAMP_WEBHOOK_SLOW_BATCHES"] = "2"
    first = faults.worker(**env)
    ids = burst(acme.partner, 6)
    wait_for(lambda: len(receiver.requests) >= 2, what="two sends to hold the budget")
    first.kill()
    receiver.slow["/hooks"] = 0.0
    faults.beat(**env)
    faults.worker(threads=2, **env)

    def all_settled():
        return WebhookDelivery.objects.filter(pk__in=ids, status="succeeded").count() == 6

    wait_for(all_settled, timeout=90, what="every delivery once the budget healed")
    assert {e["id"] for e in receiver.accepted} == set(ids)
    # the dead worker's two (still hanging at the receiver) and at most the budget's two
    assert receiver.most_at_once["/hooks"] <= 4


@pytest.mark.django_db
def test_budgets_cap_each_endpoint_and_partner_and_one_subject_at_a_time(settings):
    settings.ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT = 2
    settings.ONRAMP_WEBHOOK_SENDS_PER_PARTNER = 3
    e1 = [Want("e1", "p1", f"s{n}") for n in range(20)]
    e2 = [Want("e2", "p1", "s9"), Want("e2", "p1", "s9")]  # one subject, twice
    given = slots_take([*e1, *e2, Want("e3", "p2", "s1")], token="a", hold_seconds=30)
    slots = {slot.member: slot for slot in given.values()}
    # e1: its two slots, each carrying up to PER_SLOT lanes one after another; e2: the
    # partner's third slot, for one lane of its subject (never two at once); e3: its own
    assert sorted(slots) == ["a:e1:1", "a:e1:2", "a:e2:1", "a:e3:1"]
    assert sum(len(slot.subjects) for slot in slots.values()) == 2 * PER_SLOT + 2
    assert over_budget() == ({"e1", "e2"}, set())
    assert slots_take([Want("e4", "p1", "s1")], token="b", hold_seconds=30) == {}  # p1 full
    assert over_budget() == ({"e1", "e2"}, {"p1"})
    assert slot_give_back(slots["a:e1:1"])  # lanes waited: the caller sends a task
    assert not slot_give_back(slots["a:e1:2"])  # nobody waits any more
    assert len(slots_take([Want("e4", "p1", "s1")], token="b", hold_seconds=30)) == 1
    assert slots_take([Want("e2", "p1", "s9")], token="b", hold_seconds=30) == {}  # in flight
    slot_give_back(slots["a:e2:1"])
    assert len(slots_take([Want("e2", "p1", "s9")], token="c", hold_seconds=30)) == 1


@pytest.mark.django_db
def test_slots_and_marks_of_a_dead_holder_lapse(settings):
    """A holder that never gives back (its worker died): its slot lapses, and so does the
    mark that makes claims pass over its endpoint, so the endpoint's deliveries go again."""
    settings.ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT = 1
    assert slots_take([Want("e1", "p1", "s1")], token="a", hold_seconds=0.5)  # never back
    assert slots_take([Want("e1", "p1", "s2")], token="b", hold_seconds=0.5) == {}
    assert over_budget()[0] == {"e1"}
    time.sleep(1.2)
    assert over_budget()[0] == set()
    assert len(slots_take([Want("e1", "p1", "s2")], token="c", hold_seconds=30)) == 1
