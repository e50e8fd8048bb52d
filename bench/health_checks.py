"""Benchmark health checks: claiming a batch, and each check's own cost beyond its remote.

    .venv/bin/python bench/health_checks.py [--connections 2000]

Seeds ``--connections`` Sandbox ERP connections that are all due, serves the Sandbox ERP on
a local port (Onramp's own WSGI app, through the host map as in the demo), then runs one
scheduler pass inline: the claim (one SELECT … FOR UPDATE SKIP LOCKED and one UPDATE) and
every check (read, live check, record). "remote" is the time spent waiting on the Sandbox's
answers, "overhead" everything else. From them: checks a day for one worker process with
``--threads`` threads, at the measured remote time and at a slower 500 ms remote.
Target: ≥ 1,000,000 checks a day with the workers the README sizes; ≤ 3 queries per check.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from datetime import timedelta
from wsgiref.simple_server import WSGIRequestHandler, make_server

from common import throwaway_database
from django.conf import settings
from django.db import connection

DAY = 86_400


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_sandbox() -> str:
    from config.wsgi import application

    server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def seed(count: int) -> None:
    from django.utils import timezone

    from connections.models import Connection
    from connections.services.partners import partner_create
    from tests.factories import connected

    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    for n in range(count):
        connected(
            partner,
            end_user_id=f"u{n}",
            system="sandbox-erp",
            config={"company": "demo", "username": "demo"},
            credentials={"password": "sandbox-demo"},
        )
    Connection.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))


def remote_timer(remote: list[float]) -> None:
    from connections.outbound import client as outbound

    original = outbound.Client.request

    def request(self: object, *args: object, **kwargs: object) -> object:
        response = original(self, *args, **kwargs)
        remote.append(response.elapsed)
        return response

    outbound.Client.request = request  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    with throwaway_database() as vendor:
        from catalog.sync import catalog_sync
        from connections.services.health import _claim_due, health_checks_start

        catalog_sync()
        settings.ONRAMP_OUTBOUND_HOST_MAP = f"*.sandbox-erp.test={serve_sandbox()}"
        seed(args.connections)
        started = time.perf_counter()
        claimed = _claim_due(args.connections)
        claim_ms = (time.perf_counter() - started) * 1000
        from connections.models import Connection

        Connection.objects.filter(pk__in=claimed).update(next_check_at=time_now())
        remote: list[float] = []
        remote_timer(remote)
        statements: list[str] = []
        with connection.execute_wrapper(
            lambda run, sql, *rest: statements.append(sql) or run(sql, *rest)
        ):
            started = time.perf_counter()
            checked = health_checks_start(batch=args.connections)
            total = time.perf_counter() - started
        report(vendor, args, checked, claim_ms, total, sum(remote), len(statements))


def time_now():
    from django.utils import timezone

    return timezone.now()


def report(vendor, args, checked, claim_ms, total, remote, queries) -> None:
    per_check = total / checked
    overhead = (total - remote) / checked
    print(f"database: {vendor}; {checked} due health checks, one scheduler pass inline\n")
    print(f"claim of {args.connections} due connections: {claim_ms:.1f} ms")
    print(
        f"per check: {per_check * 1000:.1f} ms, of which remote {remote / checked * 1000:.1f} ms,"
    )
    print(
        f"           overhead {overhead * 1000:.1f} ms; queries per check {queries / checked:.2f}"
    )
    for label, remote_s in (("as measured", remote / checked), ("500 ms remote", 0.5)):
        per_day = DAY * args.threads / (remote_s + overhead)
        print(f"checks a day, one worker x {args.threads} threads, {label}: {per_day:,.0f}")


if __name__ == "__main__":
    main()
