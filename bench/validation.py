"""Benchmark a validation run's own overhead beyond the remote's time, and print a table.

    .venv/bin/python bench/validation.py [--runs 200]

The Sandbox ERP is served by Onramp's own WSGI app on a local port (reached through the
host map, as in the demo). Each run is a real attempt taken end to end by ``attempt_run``:
claim, decrypt, live check (two requests), then the connection, its event and public token.
"remote" is the time spent waiting on the Sandbox's answers; "overhead" is everything else.
Target: overhead ≤ 30 ms at p50.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

from common import percentile, throwaway_database
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

TARGET_MS = 30.0


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_sandbox() -> str:
    from config.wsgi import application

    server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def queued_attempt(partner: object) -> str:
    from connections.models import ValidationAttempt
    from connections.security import crypto
    from tests.factories import link_session

    session, _ = link_session(partner)
    attempt = ValidationAttempt(
        link_session=session,
        system_slug="sandbox-erp",
        method="password",
        config={"company": "demo", "username": "demo"},
    )
    attempt.credentials = crypto.seal(
        {"password": "sandbox-demo"}, aad=crypto.associated_data(attempt, "credentials")
    )
    attempt.save()
    return attempt.id


def measure(partner: object, remote: list[float]) -> tuple[float, float, int]:
    from connections.services.attempts import attempt_run

    attempt_id = queued_attempt(partner)
    remote.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        attempt_run(attempt_id=attempt_id, run_id="bench")
        total = (time.perf_counter() - started) * 1000
    return total, sum(remote), len(queries)


def record_remote_time(remote: list[float]) -> None:
    from connections.outbound import client as outbound

    original = outbound.Client.request

    def request(self: object, *args: object, **kwargs: object) -> object:
        response = original(self, *args, **kwargs)
        remote.append(response.elapsed * 1000)
        return response

    outbound.Client.request = request  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    with throwaway_database() as vendor:
        from catalog.sync import catalog_sync
        from connections.services.partners import partner_create

        catalog_sync()
        settings.ONRAMP_OUTBOUND_HOST_MAP = f"*.sandbox-erp.test={serve_sandbox()}"
        partner, _ = partner_create(name="Bench", origins=[], actor="bench")
        remote: list[float] = []
        record_remote_time(remote)
        for _ in range(20):
            measure(partner, remote)  # warm-up
        samples = [measure(partner, remote) for _ in range(runs)]
        report(vendor, runs, samples)


def report(vendor: str, runs: int, samples: list[tuple[float, float, int]]) -> None:
    totals = [total for total, _, _ in samples]
    remotes = [remote for _, remote, _ in samples]
    overheads = [total - remote for total, remote, _ in samples]
    print(f"database: {vendor}; {runs} validation runs against the Sandbox ERP\n")
    print(f"{'':<12}{'p50 ms':>9}{'p95 ms':>9}{'mean':>9}")
    for name, values in (("total", totals), ("remote", remotes), ("overhead", overheads)):
        print(
            f"{name:<12}{percentile(values, 0.5):>9.2f}{percentile(values, 0.95):>9.2f}"
            f"{statistics.mean(values):>9.2f}"
        )
    p50 = percentile(overheads, 0.5)
    print(f"\nqueries per run: {samples[-1][2]}")
    print(f"overhead target ≤ {TARGET_MS:.0f} ms at p50: {'yes' if p50 <= TARGET_MS else 'NO'}")


if __name__ == "__main__":
    main()
