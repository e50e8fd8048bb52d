"""Benchmark webhook delivery: latency (a state change committed → the partner's receiver
has verified it, target p95 ≤ 2 s) and throughput (a burst of events drained by one worker
process, target ≥ 200 deliveries/s), through a real Celery worker and Redis.

    .venv/bin/python bench/webhooks.py [--events 50] [--burst 1000] [--threads 32]

The burst is sent to one worker process with one thread (as the suite's worker) and then with
``--threads`` threads (``celery worker --pool=threads``, as the README sizes it): deliveries
are I/O, and a thread waits on the receiver while the others send.

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
TARGET_RATE = 200


def main() -> None:
    from tests.fakes.receiver import FakeReceiver
    from tests.stack import open_stack

    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    count = args.events
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
            first = stack.worker()
            latencies = run(receiver, count, spare=args.burst)
            first.stop()
            rates = {}
            for threads in (1, args.threads):
                emit(receiver)  # queued while no worker runs
                worker = stack.worker(threads=threads)  # returns once it takes messages
                rates[threads] = drain(receiver, started=time.time())
                worker.stop()
    receiver.stop()
    report(latencies)
    report_rates(rates, args.burst)


def emit(receiver: object) -> None:
    """Every spare connection changes status: one event, one queued delivery each."""
    from connections.models import Connection
    from connections.services.connections import connection_record_check
    from connections.verification.failures import describe

    receiver.accepted.clear()
    outcome = describe("forbidden")
    spare = Connection.objects.filter(end_user_id__startswith="burst-")
    for connection_id in spare.values_list("pk", flat=True):
        connection_record_check(connection_id=connection_id, outcome=outcome)
    spare.update(status="active")  # ready to change again


def drain(receiver: object, *, started: float) -> float:
    """Deliveries per second from a worker's start until the receiver verified the last."""
    from connections.models import WebhookDelivery

    expected = WebhookDelivery.objects.filter(status="pending").count()
    deadline = time.monotonic() + 600
    while len(receiver.accepted) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    last = max(event["received_at"] for event in receiver.accepted)
    return len(receiver.accepted) / (last - started)


def report_rates(rates: dict[int, float], count: int) -> None:
    print(f"\n{count} queued deliveries drained by one worker process:")
    for threads, rate in rates.items():
        verdict = "yes" if rate >= TARGET_RATE else "NO"
        target = f"target ≥ {TARGET_RATE}: {verdict}"
        print(f"  {threads:>3} thread(s): {rate:7.0f} deliveries/s   {target}")


def run(receiver: object, count: int, spare: int) -> list[float]:
    from catalog.sync import catalog_sync
    from connections.services.connections import connection_record_check
    from connections.services.partners import partner_create
    from connections.services.webhooks import webhook_endpoint_create
    from connections.verification.failures import describe
    from tests.factories import connected

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    for n in range(spare):  # made before the endpoint: their creation sends nothing
        connected(partner, end_user_id=f"burst-{n}")
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
