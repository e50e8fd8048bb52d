"""A partner's view of one connection's syncs against a system's stand-in: ask for a sync
(its tasks run inline), resume one that waits on a 429, read what it stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from connections.models import SyncRun, SyncState
from connections.syncs.schedule import syncs_schedule
from connections.syncs.schemas import SyncModel


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@dataclass
class RemoteSyncs:
    token: str
    run_callbacks: Callable[..., Any]

    def api(self) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.token}"})

    def sync(self, model: str, mode: str = "incremental") -> SyncRun:
        """Ask for a sync as a partner does; the run it started (or went on with)."""
        with self.run_callbacks(execute=True):
            answer = self.api().post(
                "/api/v1/syncs", {"model": model, "mode": mode}, content_type="application/json"
            )
        assert answer.status_code == 202, answer.content
        return SyncRun.objects.filter(state__model=model).order_by("-started_at").first()

    def resume(self, model: str) -> SyncRun:
        """A run waiting on Retry-After, once that time has passed: the schedule goes on."""
        state = SyncState.objects.get(model=model)
        SyncState.objects.filter(pk=state.pk).update(next_run_at=timezone.now())
        with self.run_callbacks(execute=True):
            syncs_schedule()
        state.refresh_from_db()
        return state.run

    def record(self, model: str, remote_id: Any) -> dict[str, Any]:
        answer = self.api().get(f"/api/v1/{SyncModel(model).path}/{remote_id}")
        assert answer.status_code == 200, answer.content
        return answer.json()

    def listed(self, model: str) -> list[dict[str, Any]]:
        path = SyncModel(model).path
        answer = self.api().get(f"/api/v1/{path}", {"page_size": 500})
        assert answer.status_code == 200 and answer.json()["next_cursor"] is None
        return answer.json()["data"]
