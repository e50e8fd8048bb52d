"""The connections' pages (``admin/connections.py``): a connection's checks and events, and the
revalidate and revoke actions, audited as the operator's."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.utils import timezone

from connections.models import ValidationAttempt
from tests.factories import connected

pytestmark = pytest.mark.django_db


def test_a_connections_page_lists_its_checks_and_events(acme, operator, fake_systems):
    admin = operator()
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, _ = connected(acme.partner)
    ValidationAttempt.objects.create(
        connection=connection,
        system_slug="infoplus",
        method="api_key",
        status="failed",
        error_code="forbidden",
        finished_at=timezone.now(),
    )
    html = admin.get(f"/admin/connections/connection/{quote(connection.pk)}/change/")
    page = html.content.decode()
    assert "<code>forbidden</code>" in page and re.search(r"\d+\.\d s", page)
    assert "connection.created" in page


def test_admin_actions_revoke_and_revalidate(
    acme, operator, fake_systems, django_capture_on_commit_callbacks
):
    from tests.factories import connected

    admin = operator()
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, token = connected(acme.partner)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/connections/connection/",
            {"action": "revalidate", "_selected_action": [connection.pk]},
        )
    assert connection.attempts.get().status == "succeeded"
    admin.post(
        "/admin/connections/connection/", {"action": "revoke", "_selected_action": [connection.pk]}
    )
    connection.refresh_from_db()
    assert connection.status == "revoked"
    assert connection.events.filter(kind="connection.revoked", actor="admin:admin").exists()
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/connection").status_code == 401
