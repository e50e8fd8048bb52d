"""A partner's webhook receiver: verifies every delivery with the ``standardwebhooks``
package itself, as the README tells partners to, and keeps what it accepted."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.fakes.base import FakeSystem, Reply, Request


class FakeReceiver(FakeSystem):
    hosts = ("hooks.acme.test",)
    keep_alive = True

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []  # any of them may sign (rotation)
        self.answers: list[int] = []  # statuses to answer next, in order (then 200)
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.slow: dict[str, float] = {}  # path → seconds it takes before it verifies
        self.keep_unanswered = 0  # the next this many it accepts are never answered
        self.most_at_once: Counter[str] = Counter()  # per path, the most requests in flight
        self._at_once: Counter[str] = Counter()
        self._lock = threading.Lock()

    def reset(self) -> None:
        super().reset()
        self.secrets.clear()
        self.answers.clear()
        self.accepted.clear()
        self.refused.clear()
        self.slow.clear()
        self.keep_unanswered = 0
        self.most_at_once.clear()
        self._at_once.clear()

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self._at_once[request.path] += 1
            most = max(self.most_at_once[request.path], self._at_once[request.path])
            self.most_at_once[request.path] = most
        try:
            time.sleep(self.slow.get(request.path, 0))
            return self._verify(request)
        finally:
            with self._lock:
                self._at_once[request.path] -= 1

    def _verify(self, request: Request) -> Reply:
        if self.answers:
            return Reply(self.answers.pop(0), {"error": "receiver unavailable"})
        for secret in self.secrets:
            try:
                event = Webhook(secret).verify(request.body, request.headers)
            except WebhookVerificationError:
                continue
            received = {
                "id": request.headers["webhook-id"],
                "received_at": time.time(),
                "path": request.path,
            }
            self.accepted.append(received | event)
            self._maybe_never_answer()
            return Reply(200, {"ok": True})
        self.refused.append(request.headers.get("webhook-id", ""))
        return Reply(400, {"error": "bad signature"})

    def _maybe_never_answer(self) -> None:
        """Accepted, then the answer never comes (the receiver's process stalls): the sender
        cannot know the delivery arrived."""
        with self._lock:
            if self.keep_unanswered <= 0:
                return
            self.keep_unanswered -= 1
        time.sleep(60)

    def types(self) -> list[str]:
        return [event["type"] for event in self.accepted]
