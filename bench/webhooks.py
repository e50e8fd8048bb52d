"""Benchmark webhook delivery latency: a state change committed → the partner's receiver
has verified it, through a real Celery worker and Redis. Prints p50/p95 (target p95 ≤ 2 s).

    .venv/bin/python bench/webhooks.py [--events 50]

Needs PostgreSQL and Redis (as the test suite's production path does).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from datetime import datetime
from pathlib import Path

from common import percentile, throwaway_database
from django.conf import settings
from django.db import connection

TARGET_P95_S = 2.0


def main() -> None:
    from tests.fakes.receiver import FakeReceiver
    from tests.stack import open_stack

    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50)
    count = parser.parse_args().events
    if not (settings.USING_POSTGRES and settings.USING_REDIS):
        print("skipped: needs PostgreSQL and Redis")
        return
    receiver = FakeReceiver().start()
    with throwaway_database():
        host_map = f"hooks.bench.test={receiver.url}"
        settings.ONRAMP_OUTBOUND_HOST_MAP = host_map
        base_env = {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            "ONRAMP_TEST_HOST_MAP": host_map,
        }
        stack_context = contextlib.contextmanager(open_stack)
        with stack_context(base_env=base_env, tmp=Path(tempfile.mkdtemp())) as stack:
            stack.worker()
            latencies = run(receiver, count)
    receiver.stop()
    report(latencies)


def run(receiver: object, count: int) -> list[float]:
    from catalog.sync import catalog_sync
    from connections.services.connections import connection_record_check
    from connections.services.partners import partner_create
    from connections.services.webhooks import webhook_endpoint_create
    from connections.verification.failures import describe
    from tests.factories import connected

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    _, secret = webhook_endpoint_create(
        partner=partner, url="https://hooks.bench.test/onramp", events=[], actor="bench"
    )
    receiver.secrets.append(secret)
    connection, _ = connected(partner)  # connection.created
    for n in range(count - 1):  # then invalid, restored, invalid… (test events are rationed)
        outcome = describe("forbidden") if n % 2 == 0 else None
        connection_record_check(connection_id=connection.id, outcome=outcome)  # commits, sends
        time.sleep(0.05)
    deadline = time.monotonic() + 30
    while len(receiver.accepted) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [
        event["received_at"] - datetime.fromisoformat(event["timestamp"]).timestamp()
        for event in receiver.accepted
    ]


def report(latencies: list[float]) -> None:
    p95 = percentile(latencies, 0.95)
    print(f"{len(latencies)} events, state change → receiver verified, one local worker\n")
    print(f"{'p50':<6}{percentile(latencies, 0.5):>8.3f} s")
    print(
        f"{'p95':<6}{p95:>8.3f} s   target ≤ {TARGET_P95_S:.0f} s: {'yes' if p95 <= 2 else 'NO'}"
    )


if __name__ == "__main__":
    main()
