"""Sending a claimed batch of webhook deliveries at once, from a worker's send slots.

Deliveries are I/O: a worker process sends up to ``ONRAMP_WEBHOOK_SEND_SLOTS`` at once from one
pool of threads (shared by every batch the process runs), over the outbound client's pooled,
kept-alive connections. What a batch may send was settled when it was claimed: it holds a
budget slot for each of its lanes (``webhook_budget.py``), so every lane starts at once.

The deliveries of a batch about one subject (a connection, a link session) for one endpoint
form a *lane*, sent one after another in the order they were written; lanes go in parallel.
Nothing here touches the database: the caller signs before and records after.
"""

from __future__ import annotations

import time
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


def _slots() -> ThreadPoolExecutor:
    """The process's send threads, made at first use (after a prefork worker has forked)."""
    return _pool(settings.ONRAMP_WEBHOOK_SEND_SLOTS)


@cache
def _pool(size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhook-send")


@dataclass(frozen=True)
class Watch:
    """What the caller hears of a batch's sends: each group of ended sends (``record``), each
    lane that has ended (``lane_ended``, with its index), and an endpoint whose send has run
    for ``slow_after`` seconds and is still running (``still_running``)."""

    record: Callable[[list[Sent]], None]
    lane_ended: Callable[[int], None]
    still_running: Callable[[str, float], None]
    slow_after: float


def sends_run(lanes: list[list[Send]], *, start_by: float, watch: Watch) -> list[list[Send]]:
    """Send every lane at once, each in order (the caller holds a budget slot per lane);
    hand what has ended to ``watch.record`` in groups as it ends. A send not started by
    ``start_by`` (``time.monotonic()``) is not started at all (its claim would lapse before it
    ended): the rest of its lane is returned, by lane index, not reported as ended."""
    run = _Run(lanes, watch, start_by)
    try:
        run.loop()
    finally:  # even when recording failed: the lanes still running end on their own
        for future, index in run.running.items():
            future.add_done_callback(partial(_ended_late, watch, index))
    run.ended.flush(force=True)
    return run.unstarted


def _ended_late(watch: Watch, index: int, _: Future) -> None:
    watch.lane_ended(index)


class _Run:
    """One batch's lanes: waiting for their next send, running one, or done."""

    def __init__(self, lanes: list[list[Send]], watch: Watch, start_by: float) -> None:
        self.lanes, self.watch, self.start_by = lanes, watch, start_by
        self.next = {index: 0 for index, lane in enumerate(lanes) if lane}
        self.running: dict[Future, int] = {}
        self.started: dict[int, float] = {}  # lane → when its current send began
        self.noted_slow: set[str] = set()
        self.unstarted: list[list[Send]] = []
        self.ended = _Ended(watch.record)

    def loop(self) -> None:
        while self.next or self.running:
            if time.monotonic() < self.start_by:
                self._start_waiting()
            else:
                self._give_up_waiting()
            if not self.running:
                break
            done, _ = wait(self.running, timeout=RECORD_EVERY / 2, return_when=FIRST_COMPLETED)
            for future in done:
                self._sent(future)
            self._note_slow()
            self.ended.flush(force=not self.running)

    def _start_waiting(self) -> None:
        for index in list(self.next):
            if index not in self.running.values():
                send = self.lanes[index][self.next[index]]
                future = _slots().submit(_send, send, self.start_by, self.started, index)
                self.running[future] = index

    def _give_up_waiting(self) -> None:
        for index in [i for i in self.next if i not in self.running.values()]:
            self.unstarted.append(self.lanes[index][self.next.pop(index) :])

    def _sent(self, future: Future) -> None:
        index = self.running.pop(future)
        self.started.pop(index, None)
        sent = future.result()
        if sent is None:  # its thread came free after ``start_by``: the lane goes back
            self.unstarted.append(self.lanes[index][self.next.pop(index) :])
            return
        self.ended.add(sent)
        self.next[index] += 1
        if self.next[index] >= len(self.lanes[index]):
            del self.next[index]
            self.watch.lane_ended(index)

    def _note_slow(self) -> None:
        now = time.monotonic()
        for index, began in list(self.started.items()):
            endpoint_id = self.lanes[index][0].endpoint_id
            if now - began >= self.watch.slow_after and endpoint_id not in self.noted_slow:
                self.noted_slow.add(endpoint_id)
                self.watch.still_running(endpoint_id, now - began)


def _send(send: Send, start_by: float, started: dict[int, float], index: int) -> Sent | None:
    began = time.monotonic()
    if began > start_by:
        return None
    started[index] = began
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
        return Sent(send, time.monotonic() - began, error=exc.message)
    except Exception as exc:  # a bug must not cost the batch its records
        return Sent(send, time.monotonic() - began, error=type(exc).__name__)
    return Sent(send, time.monotonic() - began, response=response)


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
