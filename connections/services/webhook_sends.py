"""Sending a claimed batch of webhook deliveries at once, within a worker's send slots.

Deliveries are I/O: a worker process sends up to ``ONRAMP_WEBHOOK_SEND_SLOTS`` at once from one
pool of threads (shared by every batch the process runs), over the outbound client's pooled,
kept-alive connections. No endpoint gets more than ``ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT`` of
those slots, so a slow endpoint (each try may take ``ONRAMP_WEBHOOK_TIMEOUT``) cannot hold them
all while deliveries to other endpoints wait: what is over its budget waits for one of its own
sends to end. (Fairness between partners builds on this budget.)

The deliveries of a batch about one subject (a connection, a link session) for one endpoint
form a *lane*, sent one after another in the order they were written; lanes go in parallel.
Nothing here touches the database: the caller signs before and records after.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cache, partial

from django.conf import settings

from connections.outbound.client import OutboundResponse, request
from connections.outbound.errors import OutboundError

RECORD_EVERY = 0.1  # seconds: what has been sent is recorded this often, in one go
RECORD_AT = 50  # or as soon as this many sends have ended


@dataclass(frozen=True)
class Send:
    """One signed delivery, ready to go."""

    delivery_id: str
    endpoint_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    allow_local: bool


@dataclass(frozen=True)
class Sent:
    """What came of a send: a response (any status), or why none came."""

    send: Send
    seconds: float
    response: OutboundResponse | None = None
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.response is not None and 200 <= self.response.status < 300


class EndpointBudget:
    """How many sends each endpoint has in flight in this process, capped per endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}

    def take(self, endpoint_id: str) -> bool:
        with self._lock:
            held = self._in_flight.get(endpoint_id, 0)
            if held >= settings.ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT:
                return False
            self._in_flight[endpoint_id] = held + 1
            return True

    def give_back(self, endpoint_id: str) -> None:
        with self._lock:
            held = self._in_flight.pop(endpoint_id, 1) - 1
            if held:
                self._in_flight[endpoint_id] = held


budget = EndpointBudget()


def _slots() -> ThreadPoolExecutor:
    """The process's send threads, made at first use (after a prefork worker has forked)."""
    return _pool(settings.ONRAMP_WEBHOOK_SEND_SLOTS)


@cache
def _pool(size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhook-send")


def sends_run(
    lanes: list[list[Send]], *, start_by: float, record: Callable[[list[Sent]], None]
) -> list[Send]:
    """Send every lane, each in order, within the endpoints' budgets; hand what has ended to
    ``record`` in groups as it ends. A send not started by ``start_by`` (``time.monotonic()``)
    is not started at all (its claim would lapse before it ended): those are returned."""
    waiting, running, ended = deque(lanes), {}, _Ended(record)
    try:
        _run(waiting, running, ended, start_by)
    finally:  # even when recording failed: the sends still running give their slots back
        for future, lane in running.items():
            future.add_done_callback(partial(_give_back, lane[0].endpoint_id))
    ended.flush(force=True)
    return [send for lane in waiting for send in lane]


def _give_back(endpoint_id: str, _: Future) -> None:
    budget.give_back(endpoint_id)


def _run(
    waiting: deque[list[Send]], running: dict[Future, list[Send]], ended: _Ended, start_by: float
) -> None:
    while waiting or running:
        if time.monotonic() < start_by:
            _start(waiting, running)
        elif not running:
            break
        if not running:  # every lane waits for its endpoint's sends in other batches
            time.sleep(RECORD_EVERY / 2)
        done, _ = wait(running, timeout=RECORD_EVERY / 2, return_when=FIRST_COMPLETED)
        for future in done:
            lane = running.pop(future)
            budget.give_back(lane[0].endpoint_id)
            ended.add(future.result())
            if lane[1:]:
                waiting.appendleft(lane[1:])  # the lane's next, in its place
        ended.flush(force=not running)


def _start(waiting: deque[list[Send]], running: dict[Future, list[Send]]) -> None:
    """Start the first send of every waiting lane whose endpoint has a slot free."""
    for lane in list(waiting):
        if budget.take(lane[0].endpoint_id):
            waiting.remove(lane)
            running[_slots().submit(_send, lane[0])] = lane


def _send(send: Send) -> Sent:
    started = time.monotonic()
    try:
        response = request(
            "POST",
            send.url,
            headers=send.headers,
            data=send.body,
            deadline=settings.ONRAMP_WEBHOOK_TIMEOUT,
            allow_local=send.allow_local,
        )
    except OutboundError as exc:
        return Sent(send, time.monotonic() - started, error=exc.message)
    except Exception as exc:  # a bug must not cost the batch its records
        return Sent(send, time.monotonic() - started, error=type(exc).__name__)
    return Sent(send, time.monotonic() - started, response=response)


class _Ended:
    """Sends that have ended, handed on in groups (few queries per delivery)."""

    def __init__(self, record: Callable[[list[Sent]], None]) -> None:
        self._record, self._sent, self._since = record, [], time.monotonic()

    def add(self, sent: Sent) -> None:
        if not self._sent:
            self._since = time.monotonic()
        self._sent.append(sent)

    def flush(self, *, force: bool = False) -> None:
        due = len(self._sent) >= RECORD_AT or time.monotonic() - self._since >= RECORD_EVERY
        if self._sent and (force or due):
            sent, self._sent = self._sent, []
            self._record(sent)
