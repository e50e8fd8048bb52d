"""A Sandbox ERP connection (the Sandbox served over real HTTP by the test server), its
records, and a partner's view of synced data through the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from catalog import sandbox_data
from connections.models import Connection
from tests.factories import connected


@dataclass
class Sandbox:
    connection: Connection
    token: str
    records: sandbox_data.Records
    run_callbacks: Callable[..., Any]
    fakes: Any

    def api(self) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.token}"})

    def sync(self, model: str = "purchase_orders", mode: str = "incremental") -> Any:
        """Ask for a sync, as a partner does, and let its tasks run (inline)."""
        with self.run_callbacks(execute=True):
            return self.api().post(
                "/api/v1/syncs", {"model": model, "mode": mode}, content_type="application/json"
            )

    def feed(self, path: str = "purchase-orders", **params: Any) -> list[dict[str, Any]]:
        """Every page of a list, following ``next_cursor``."""
        items, cursor = [], None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            answer = self.api().get(f"/api/v1/{path}", query)
            assert answer.status_code == 200, answer.content
            items += answer.json()["data"]
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                return items

    def in_window(self, model: str = "purchase_orders") -> dict[str, dict[str, Any]]:
        """The sandbox's records an initial sync reads: modified within the history window."""
        since = sandbox_data.iso(
            datetime.now(UTC) - timedelta(days=settings.ONRAMP_SYNC_HISTORY_DAYS)
        )
        rows = getattr(self.records, model)
        return {r["id"]: r for r in rows if r["updated_at"] >= since and not r.get("deleted")}


@pytest.fixture
def sandbox(
    acme: Any, onramp_server: str, fakes: Any, django_capture_on_commit_callbacks: Any
) -> Iterator[Sandbox]:
    records = sandbox_data.reset()
    connection, token = connected(
        acme.partner,
        system="sandbox-erp",
        config={"company": "demo", "username": "demo"},
        credentials={"password": "sandbox-demo"},
    )
    fakes.reset()
    yield Sandbox(connection, token, records, django_capture_on_commit_callbacks, fakes)
    sandbox_data.reset()
