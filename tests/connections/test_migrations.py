"""Data migrations keep what was stored working."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from connections.models import Connection
from tests.factories import connected

pytestmark = pytest.mark.django_db


def test_manhattan_connections_keep_the_host_they_were_checked_against(acme):
    migration = importlib.import_module("connections.migrations.0020_manhattan_environment")
    connection, _ = connected(acme.partner)
    Connection.objects.filter(pk=connection.pk).update(
        system_id="manhattan-active-wm", config={"unique_id": "acme"}
    )
    migration.to_environment(apps, None)
    assert Connection.objects.get(pk=connection.pk).config == {"environment": "acme.omni.manh.com"}
    migration.to_unique_id(apps, None)
    assert Connection.objects.get(pk=connection.pk).config == {"unique_id": "acme"}
