"""A partner's webhook receiver: verifies every delivery with the ``standardwebhooks``
package itself, as the README tells partners to, and keeps what it accepted."""

from __future__ import annotations

import time
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.fakes.base import FakeSystem, Reply, Request


class FakeReceiver(FakeSystem):
    hosts = ("hooks.acme.test",)

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []  # any of them may sign (rotation)
        self.answers: list[int] = []  # statuses to answer next, in order (then 200)
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.secrets.clear()
        self.answers.clear()
        self.accepted.clear()
        self.refused.clear()

    def handle(self, request: Request) -> Reply:
        if self.answers:
            return Reply(self.answers.pop(0), {"error": "receiver unavailable"})
        for secret in self.secrets:
            try:
                event = Webhook(secret).verify(request.body, request.headers)
            except WebhookVerificationError:
                continue
            received = {"id": request.headers["webhook-id"], "received_at": time.time()}
            self.accepted.append(received | event)
            return Reply(200, {"ok": True})
        self.refused.append(request.headers.get("webhook-id", ""))
        return Reply(400, {"error": "bad signature"})

    def types(self) -> list[str]:
        return [event["type"] for event in self.accepted]
