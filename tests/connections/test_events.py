"""One event vocabulary: what can be recorded, what partners receive, what the README says."""

from __future__ import annotations

import pytest

from config.celery import app as celery_app
from connections.dispatch import Task
from connections.events import EventKind, webhook_kinds
from connections.models import Event
from connections.services.audit import event_record
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def test_a_kind_outside_the_vocabulary_is_refused_and_nothing_is_written(acme):
    with pytest.raises(ValueError):
        event_record(partner=acme.partner, kind="connection.exploded", actor="test")
    assert not Event.objects.filter(kind="connection.exploded").exists()


def test_the_readme_names_every_kind_partners_receive():
    readme = (ROOT / "README.md").read_text()
    missing = [kind.value for kind in webhook_kinds() if f"`{kind.value}`" not in readme]
    assert not missing


def test_partners_subscribe_to_exactly_the_webhook_kinds(api):
    listed = {"url": "https://hooks.acme.test/x", "events": [k.value for k in webhook_kinds()]}
    created = api.post("/api/v1/webhook-endpoints", listed, content_type="application/json")
    assert created.status_code == 201, created.content
    internal = {"url": "https://hooks.acme.test/y", "events": [EventKind.PARTNER_KEY_CREATED]}
    refused = api.post("/api/v1/webhook-endpoints", internal, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_event"


def test_every_task_services_send_is_registered_under_its_name():
    registered = set(celery_app.tasks)
    assert {task.value for task in Task} <= registered
