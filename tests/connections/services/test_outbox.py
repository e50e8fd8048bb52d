"""The outbox (``services/outbox.py``): every webhook about a connection carries that
connection's ``sequence``, distinct and increasing even when changes race (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connections, transaction

from connections.events import EventKind
from connections.models import Connection, Event
from connections.services.audit import event_record
from connections.services.webhooks import webhook_endpoint_create
from tests.factories import connected

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
]
RACERS = 6


def record_change(connection_id: str, barrier: threading.Barrier, errors: list) -> None:
    """One request changing the connection: its event, then more work before it commits."""
    try:
        connection = Connection.objects.select_related("partner").get(pk=connection_id)
        barrier.wait(timeout=10)
        with transaction.atomic():
            event_record(
                partner=connection.partner,
                kind=EventKind.CONNECTION_RESTORED,
                actor="test",
                connection=connection,
            )
            time.sleep(0.05)  # still open: a racer must wait for this number, not reuse it
    except Exception as exc:
        errors.append(exc)
    finally:
        connections.close_all()


def test_racing_events_about_one_connection_get_distinct_increasing_sequences(acme, fake_systems):
    _, secret = webhook_endpoint_create(
        partner=acme.partner, url="https://hooks.acme.test/onramp", events=[], actor="test"
    )
    fake_systems.receiver.secrets.append(secret)
    connection, _ = connected(acme.partner)
    barrier, errors = threading.Barrier(RACERS), []
    racers = [
        threading.Thread(target=record_change, args=(connection.id, barrier, errors))
        for _ in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    assert errors == []
    events = Event.objects.filter(connection=connection, sequence__isnull=False)
    assert sorted(events.values_list("sequence", flat=True)) == list(range(1, RACERS + 2))
    received = [e["data"]["sequence"] for e in fake_systems.receiver.accepted]
    assert sorted(received) == list(range(1, RACERS + 2))


def test_only_the_kinds_partners_receive_take_a_number(acme):
    connected(acme.partner)
    created = Event.objects.get(kind="connection.created")
    assert created.sequence == 1
    assert set(Event.objects.exclude(pk=created.pk).values_list("sequence", flat=True)) == {
        None
    }  # connection_token.created, link_session.completed…
