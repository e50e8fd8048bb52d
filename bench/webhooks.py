"""Benchmark webhook delivery through a real Celery worker and Redis: latency (a state change
committed → the partner's receiver has verified it, target p95 ≤ 2 s while events come at 200 a
second) and throughput (a queued burst drained by one worker process, target ≥ 200
deliveries/s).

    .venv/bin/python bench/webhooks.py [--rate 200] [--seconds 5] [--burst 1000] [--threads 8]
        [--source changes|events]

``--source events`` drives the latency run with webhook events written as the outbox writes
them (``event_record``: the event, its sequence, its delivery, its task at the commit) without
the connection change around them (which costs 50 to 150 ms here, so the producers could not
reach 200 a second): ``--source events --seconds 30`` is 200 events/s for 30 s over
``EVENT_CONNECTIONS`` connections.

A worker is ``celery worker --pool=threads -c THREADS``: each of its threads runs a task that
claims a batch of due deliveries, and the process sends them from its send slots
(``ONRAMP_WEBHOOK_SEND_SLOTS``, at most ``ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT`` to one endpoint;
the bench has one endpoint). The burst is drained with 1 thread and with ``--threads``.

Needs PostgreSQL and Redis (as the test suite's production path does).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from common import percentile, throwaway_database
from django.conf import settings
from django.db import connection, connections, transaction

TARGET_P95_S = 2.0
TARGET_RATE = 200
PROCESSES, THREADS = 4, 8  # writing events (a state change takes 50 to 150 ms here)
EVENT_CONNECTIONS = 1000  # the events of ``--source events`` go round these


def main() -> None:
    from tests.fakes.receiver import FakeReceiver
    from tests.stack import open_stack

    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=TARGET_RATE, help="events/s, latency run")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--source", choices=("changes", "events"), default="changes")
    args = parser.parse_args()
    if not (settings.USING_POSTGRES and settings.USING_REDIS):
        print("skipped: needs PostgreSQL and Redis")
        return
    receiver = FakeReceiver().start()
    connection.settings_dict["TEST"]["NAME"] += "_webhooks"  # apart from the test suite's
    with throwaway_database():
        host_map = f"hooks.bench.test={receiver.url}"
        settings.ONRAMP_OUTBOUND_HOST_MAP = host_map
        base_env = {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            "ONRAMP_TEST_HOST_MAP": host_map,
        }
        paced_spare = int(args.rate * args.seconds) if args.source == "changes" else 0
        seed(receiver, spare=max(args.burst, paced_spare, EVENT_CONNECTIONS))
        stack_context = contextlib.contextmanager(open_stack)
        with stack_context(base_env=base_env, tmp=Path(tempfile.mkdtemp())) as stack:
            worker = stack.worker(threads=args.threads)
            run = run_paced if args.source == "changes" else run_paced_events
            paced = run(receiver, rate=args.rate, seconds=args.seconds)
            worker.stop()
            rates = {}
            for threads in (1, args.threads) if args.burst else ():
                emit(receiver, args.burst)  # queued while no worker runs
                worker = stack.worker(threads=threads)
                rates[threads] = drain(receiver, expected=args.burst)
                worker.stop()
    receiver.stop()
    report(paced, args.threads)
    if rates:
        report_rates(rates, args.burst)


def seed(receiver: object, *, spare: int) -> None:
    """Active connections (made before the endpoint: their creation sends nothing)."""
    from catalog.sync import catalog_sync
    from connections.services.partners import partner_create
    from connections.services.webhooks import webhook_endpoint_create

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    produce([f"burst-{n:05}" for n in range(spare)], action=make_connection)
    _, secret = webhook_endpoint_create(
        partner=partner, url="https://hooks.bench.test/onramp", events=[], actor="bench"
    )
    receiver.secrets.append(secret)


def make_connection(end_user_id: str) -> None:
    from connections.models import Partner
    from tests.factories import connected

    connected(Partner.objects.get(name="Bench"), end_user_id=end_user_id)


def spare_ids(count: int) -> list[str]:
    from connections.models import Connection

    spare = Connection.objects.filter(end_user_id__startswith="burst-").order_by("end_user_id")
    return list(spare.values_list("pk", flat=True)[:count])


def flip(connection_id: str) -> float:
    """One state change: active → invalid, invalid → active (one event, one delivery).
    Returns when it committed (``time.time()``, before its delivery's task was sent)."""
    from connections.models import Connection
    from connections.services.connections import connection_record_check
    from connections.verification.failures import describe

    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # runs first
        active = Connection.objects.filter(pk=connection_id, status="active").exists()
        connection_record_check(
            connection_id=connection_id, outcome=describe("forbidden") if active else None
        )
    return committed[0]


def run_paced(receiver: object, *, rate: int, seconds: float) -> dict[str, object]:
    """Events at ``rate`` a second for ``seconds`` (each on a connection of its own, each
    committed and sent as the API would), while the worker delivers them; the latency of
    each, from the event's timestamp and from its commit."""
    receiver.accepted.clear()
    ids, started = spare_ids(int(rate * seconds)), time.time()
    committed = produce(ids, rate=rate)
    emitted = time.time() - started
    wait_for_all(receiver, len(ids))
    firsts = {}
    for event in receiver.accepted:
        firsts.setdefault(event["data"]["connection_id"], event)
    from_event = [
        e["received_at"] - datetime.fromisoformat(e["timestamp"]).timestamp()
        for e in firsts.values()
    ]
    from_commit = [e["received_at"] - committed[pk] for pk, e in firsts.items()]
    return {
        "events": len(ids),
        "rate": len(ids) / emitted,
        "latencies": from_event,
        "from_commit": from_commit,
    }


def run_paced_events(receiver: object, *, rate: int, seconds: float) -> dict[str, object]:
    """Webhook events at ``rate`` a second for ``seconds``, round ``EVENT_CONNECTIONS``
    connections, each written in a transaction of its own as the outbox writes it, while the
    worker delivers them; the latency of each, from the event's timestamp and its commit."""
    receiver.accepted.clear()
    pool = spare_ids(EVENT_CONNECTIONS)
    items = [f"{n}:{pool[n % len(pool)]}" for n in range(int(rate * seconds))]
    started = time.time()
    committed = produce(items, rate=rate, action=record_event)
    emitted = time.time() - started
    wait_for_all(receiver, len(items))
    firsts = {}
    for event in receiver.accepted:
        firsts.setdefault((event["data"]["connection_id"], event["data"]["sequence"]), event)
    when = dict(committed.values())
    from_event = [
        e["received_at"] - datetime.fromisoformat(e["timestamp"]).timestamp()
        for e in firsts.values()
    ]
    from_commit = [e["received_at"] - when[key] for key, e in firsts.items() if key in when]
    return {
        "events": len(items),
        "rate": len(items) / emitted,
        "latencies": from_event,
        "from_commit": from_commit,
    }


def record_event(item: str) -> tuple[tuple[str, int], float]:
    """One ``connection.restored`` event about the item's connection, in its own transaction:
    its (connection, sequence) and when it committed (``time.time()``)."""
    from connections.events import EventKind
    from connections.models import Connection
    from connections.services.audit import event_record

    connection_id = item.split(":", 1)[1]
    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # runs first
        connection = Connection.objects.select_related("partner").get(pk=connection_id)
        event = event_record(
            partner=connection.partner,
            kind=EventKind.CONNECTION_RESTORED,
            actor="bench",
            connection=connection,
        )
    return (connection_id, event.sequence), committed[0]


def produce(
    ids: list[str], *, rate: float | None = None, action: Callable[[str], object] = flip
) -> dict[str, object]:
    """``action`` (a state change) on each, from ``PROCESSES`` times ``THREADS`` producers (one
    process cannot write 200 a second here), paced to ``rate`` a second (None: as fast as
    they go). Returns each one's result."""
    connections.close_all()  # the children open their own
    started, producers = time.time(), PROCESSES * THREADS
    shares = [(ids[k::producers], k, producers, started, rate, action) for k in range(producers)]
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        results = pool.map(_produce_share, [shares[p::PROCESSES] for p in range(PROCESSES)])
    return {key: value for result in results for key, value in result.items()}


def _produce_share(shares: list[tuple]) -> dict[str, object]:
    """In a producer process: a thread per share."""
    results: dict[str, object] = {}

    def producer(ids, offset, producers, started, rate, action) -> None:
        for n, item in enumerate(ids):
            if rate:
                time.sleep(max(0.0, started + (offset + n * producers) / rate - time.time()))
            results[item] = action(item)
        connections.close_all()

    threads = [threading.Thread(target=producer, args=share) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def emit(receiver: object, count: int) -> None:
    """``count`` connections change status: one event, one queued delivery each."""
    receiver.accepted.clear()
    produce(spare_ids(count))


def wait_for_all(receiver: object, expected: int) -> None:
    deadline = time.monotonic() + 600
    while len({e["id"] for e in receiver.accepted}) < expected and time.monotonic() < deadline:
        time.sleep(0.05)


def drain(receiver: object, *, expected: int) -> float:
    """Deliveries per second, from the first the receiver verified to the last (a worker's
    start-up left out: it may drain much of a burst before it answers a ping)."""
    wait_for_all(receiver, expected)
    times = sorted(event["received_at"] for event in receiver.accepted)
    return (len(times) - 1) / (times[-1] - times[0])


def report(paced: dict[str, object], threads: int) -> None:
    latencies = paced["latencies"]
    p95 = percentile(latencies, 0.95)
    verdict = "yes" if p95 <= TARGET_P95_S else "NO"
    print(f"\nLatency: {paced['events']} events at {paced['rate']:.0f}/s, event written →")
    print(f"receiver verified, one worker (-c {threads}):")
    print(f"  p50 {percentile(latencies, 0.5):7.3f} s")
    print(f"  p95 {p95:7.3f} s   target ≤ {TARGET_P95_S:.0f} s: {verdict}")
    print(f"  max {max(latencies):7.3f} s")
    committed = paced["from_commit"]
    print("  from the commit of its change (the producers' own time left out):")
    print(f"  p50 {percentile(committed, 0.5):7.3f} s")
    print(f"  p95 {percentile(committed, 0.95):7.3f} s")


def report_rates(rates: dict[int, float], count: int) -> None:
    print(f"\n{count} queued deliveries drained by one worker process:")
    for threads, rate in rates.items():
        verdict = "yes" if rate >= TARGET_RATE else "NO"
        target = f"target ≥ {TARGET_RATE}: {verdict}"
        print(f"  -c {threads:<3}: {rate:7.0f} deliveries/s   {target}")


if __name__ == "__main__":
    main()
