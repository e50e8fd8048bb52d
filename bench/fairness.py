"""Benchmark fair sharing: one partner's trouble must not become another's (issue 22).

    .venv/bin/python bench/fairness.py [--burst 200] [--checks 20] [--threads 8] [--share 4]

Two partners share one Celery worker process (``--threads`` threads, all lanes) and one
remote (the Sandbox ERP, served here with 300 ms added to each answer). Partner B does
ordinary work: ``--checks`` live checks one after another, and as many webhook events to a
receiver that answers at once. It does it twice: alone, then while partner A's customers
submit ``--burst`` checks at once and A's receiver takes 1 s per delivery for as many events.
It prints B's check time (submitted → finished) and webhook latency (state change → B's
receiver verified it) at p50/p95, alone and alongside, and their ratio (target ≤ 1.5 times).
``--share`` is ``ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER`` for the worker.

Needs PostgreSQL and Redis (as the test suite's production path does).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from common import percentile, throwaway_database
from django.conf import settings
from django.db import connection, connections

TARGET_RATIO = 1.5
FORK = multiprocessing.get_context("fork")
REMOTE_DELAY_S = 0.3
SLOW_RECEIVER_S = 1.0
NO_LIMITS = {
    "ONRAMP_VALIDATIONS_PER_IP_HOUR": 10**9,
    "ONRAMP_VALIDATIONS_PER_END_USER_MINUTE": 10**9,
    "ONRAMP_VALIDATIONS_PER_HOST_MINUTE": 10**9,
    "ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL": 10**9,
}


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_slow_sandbox() -> str:
    """The Sandbox ERP on a local port, each answer ``REMOTE_DELAY_S`` late, served by a
    process of its own (so the bench's own work never slows the remote's answers)."""
    from tests.stack import wait_until_up

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connections.close_all()  # the child must not share this process's database connections
    FORK.Process(target=_serve_sandbox, args=(port,), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/sandbox/")
    return url


def _serve_sandbox(port: int) -> None:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIServer

    from config.wsgi import application

    def slow(environ: dict, start_response: object) -> list[bytes]:
        time.sleep(REMOTE_DELAY_S)
        return list(application(environ, start_response))

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    make_server(
        "127.0.0.1", port, slow, server_class=Threaded, handler_class=Quiet
    ).serve_forever()


def receivers(slow_s: float) -> tuple[object, object]:
    from tests.fakes.receiver import FakeReceiver

    class SlowReceiver(FakeReceiver):
        def handle(self, request: object) -> object:
            time.sleep(slow_s)
            return super().handle(request)

    return SlowReceiver().start(), FakeReceiver().start()


def main() -> None:
    from tests.stack import open_stack

    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--checks", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--share", type=int, default=4)
    parser.add_argument(
        "--split", action="store_true", help="a worker per lane (as the README sizes it)"
    )
    parser.add_argument("--deliveries", type=int, default=None, help="A's (default: --burst)")
    parser.add_argument(
        "--slow-receiver", type=float, default=SLOW_RECEIVER_S, help="A's receiver's seconds"
    )
    args = parser.parse_args()
    if not (settings.USING_POSTGRES and settings.USING_REDIS):
        print("skipped: needs PostgreSQL and Redis")
        return
    for name, value in NO_LIMITS.items():
        setattr(settings, name, value)
    sandbox = serve_slow_sandbox()
    slow, fast = receivers(args.slow_receiver)
    with throwaway_database():
        host_map = (
            f"*.sandbox-erp.test={sandbox},hooks-a.bench.test={slow.url},"
            f"hooks-b.bench.test={fast.url}"
        )
        settings.ONRAMP_OUTBOUND_HOST_MAP = host_map
        base_env = {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            "ONRAMP_TEST_HOST_MAP": host_map,
            "ONRAMP_TEST_READ_TIMEOUT": "20",
            "ONRAMP_TEST_DEADLINE": "25",
            "ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER": str(args.share),
        }
        stack_context = contextlib.contextmanager(open_stack)
        with stack_context(base_env=base_env, tmp=Path(tempfile.mkdtemp())) as stack:
            a, b = set_up(slow, fast, args)
            if args.split:  # validations on one worker, webhooks and scheduled work on another
                stack.worker(threads=args.threads, lanes=("",))
                stack.worker(threads=args.threads, lanes=("webhooks", "scheduled"))
            else:
                stack.worker(threads=args.threads)
            partner_b_works(b, fast, 3)  # warm-up: connections, imports, caches
            alone = partner_b_works(b, fast, args.checks)
            deliveries = args.burst if args.deliveries is None else args.deliveries
            connections.close_all()
            burst = FORK.Process(target=partner_a_bursts, args=(a, args.burst, deliveries))
            burst.start()  # a process of its own, as A's customers' browsers would be
            alongside = partner_b_works(b, fast, args.checks)
            burst.join()
    slow.stop()
    fast.stop()
    report(alone, alongside, args)


@dataclass
class Partner:
    partner: object
    connections: list[str]  # the first changes state in B's work, all of them in A's burst


def set_up(slow: object, fast: object, args: argparse.Namespace) -> tuple[Partner, Partner]:
    from catalog.sync import catalog_sync
    from connections.services.partners import partner_create
    from connections.services.webhooks import webhook_endpoint_create
    from tests.factories import connected

    catalog_sync()
    made = []
    for name, receiver, host in (("A", slow, "hooks-a"), ("B", fast, "hooks-b")):
        partner, _ = partner_create(name=f"Partner {name}", origins=[], actor="bench")
        spare = [connected(partner, end_user_id=f"{name}-{n}")[0] for n in range(args.burst)]
        _, secret = webhook_endpoint_create(
            partner=partner, url=f"https://{host}.bench.test/onramp", events=[], actor="bench"
        )
        receiver.secrets.append(secret)
        made.append(Partner(partner, [c.pk for c in spare]))
    return made[0], made[1]


def submit(partner: object) -> str:
    from catalog.registry import get_definition
    from connections.services.validation import attempt_start
    from tests.factories import link_session

    session, _ = link_session(partner, locale="en")
    definition = get_definition("sandbox-erp")
    attempt = attempt_start(
        session=session,
        definition=definition,
        method=definition.method("password"),
        config={"company": "demo", "username": "demo"},
        credentials={"password": "sandbox-demo"},
        client_ip="203.0.113.7",
    )
    return attempt.pk


def flip(connection_id: str, n: int) -> None:
    """A state change of the connection: one event, one delivery to each endpoint."""
    from connections.services.connections import connection_record_check
    from connections.verification.failures import describe

    outcome = describe("forbidden") if n % 2 == 0 else None
    connection_record_check(connection_id=connection_id, outcome=outcome)


def partner_a_bursts(a: Partner, burst: int, deliveries: int) -> None:
    """Partner A's launch: its customers submit ``burst`` checks at once, and as many of its
    connections change state (each a delivery to its slow receiver)."""
    for connection_id in a.connections[:deliveries]:
        flip(connection_id, 0)
    for _ in range(burst):
        submit(a.partner)


def partner_b_works(b: Partner, receiver: object, checks: int) -> dict[str, list[float]]:
    """B's ordinary traffic, one check and one state change at a time."""
    from connections.models import ValidationAttempt

    receiver.accepted.clear()
    check_times, flips = [], 0
    for _ in range(checks):
        attempt_id = submit(b.partner)
        flip(b.connections[0], flips)
        flips += 1
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            attempt = ValidationAttempt.objects.get(pk=attempt_id)
            if attempt.is_finished:
                break
            time.sleep(0.02)
        check_times.append((attempt.finished_at - attempt.created_at).total_seconds())
    deadline = time.monotonic() + 300
    while len(receiver.accepted) < flips and time.monotonic() < deadline:
        time.sleep(0.05)
    latencies = [
        event["received_at"] - datetime.fromisoformat(event["timestamp"]).timestamp()
        for event in receiver.accepted
    ]
    return {"check": check_times, "webhook": latencies}


def report(alone: dict, alongside: dict, args: argparse.Namespace) -> None:
    print(
        f"\nPartner B's figures alone and while partner A bursts {args.burst} checks and "
        f"{args.burst} deliveries to a receiver taking {args.slow_receiver:g} s "
        f"({'a worker per lane' if args.split else 'one worker'}, {args.threads} threads each, "
        f"share {args.share}; remote {REMOTE_DELAY_S} s)\n"
    )
    print(f"{'what':<22}{'alone p50/p95 s':>18}{'alongside p50/p95 s':>22}{'p95 ratio':>11}")
    for kind in ("check", "webhook"):
        lone, crowd = alone[kind], alongside[kind]
        if not lone or not crowd:
            print(f"{kind:<22}{'(no samples)':>18}")
            continue
        ratio = percentile(crowd, 0.95) / percentile(lone, 0.95)
        verdict = "yes" if ratio <= TARGET_RATIO else "NO"
        print(
            f"{kind:<22}{percentile(lone, 0.5):>8.2f} / {percentile(lone, 0.95):<7.2f}"
            f"{percentile(crowd, 0.5):>11.2f} / {percentile(crowd, 0.95):<8.2f}"
            f"{ratio:>6.2f}x  target ≤ {TARGET_RATIO}: {verdict}"
        )


if __name__ == "__main__":
    main()
