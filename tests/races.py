"""Two operators at once, on PostgreSQL: another thread (so another database connection)
changes a row in its own transaction, committed before this thread acts, or held open until
this thread's statement waits on its row lock and committed then. Tests using these need
``django_db(transaction=True)``: the other connection sees only committed rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

WAITED_ON = (
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity"
    " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid)))"
)


def committed_elsewhere(work: Callable[[], Any]) -> Any:
    """``work`` on another connection, committed before this returns its result."""
    with held_until_waited_on(work, within=0) as outcome:
        pass
    return outcome["result"]


@contextmanager
def held_until_waited_on(work: Callable[[], Any], *, within: float = 15.0) -> Iterator[dict]:
    """``work`` in a transaction on another connection, left open while the block runs; it
    commits once a statement of the block waits on its locks (or after ``within`` seconds).
    Yields a dict whose ``result`` is ``work``'s once the block is over."""
    if not settings.USING_POSTGRES:
        pytest.skip("races between connections need PostgreSQL")
    holding, outcome = threading.Event(), {}
    other = threading.Thread(target=_hold, args=(work, within, holding, outcome))
    other.start()
    holding.wait(30)
    try:
        yield outcome
    finally:
        other.join(60)
    if "error" in outcome:
        raise outcome["error"]


def _hold(work: Callable[[], Any], within: float, holding: threading.Event, outcome: dict) -> None:
    try:
        with transaction.atomic():
            outcome["result"] = work()
            holding.set()
            _until_waited_on(within)
    except Exception as exc:  # handed to the test's thread
        outcome["error"] = exc
    finally:
        holding.set()
        connections.close_all()


def _until_waited_on(within: float) -> None:
    deadline = time.monotonic() + within
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(WAITED_ON)
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
