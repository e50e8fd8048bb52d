"""Benchmark a validation's cost and what the end user waits beyond the remote, and print
two tables.

    .venv/bin/python bench/validation.py [--runs 200] [--users 40]

The Sandbox ERP is served by Onramp's own WSGI app on a local port (reached through the
host map, as in the demo), timing each of its answers: "remote" is that time.

1. In this process, one validation as a submit makes it: ``attempt_start`` (lock the
   session, store the attempt), then the check as its commit sends it (Celery inline here):
   claim, decrypt, live check (two requests), the connection, its events, the public token.
   Its SQL and its own time beyond the remote's. Target: ≤ 15 SQL per validation.
2. The end user's wait, on the production path (PostgreSQL, Redis, gunicorn and a Celery
   worker as separate processes): from the htmx submit of the details until the connected
   screen is in hand (the progress screen's polls if any, at the pace it asks; a full load
   of the done screen where the answer says to), minus the remote's time. Target
   (issue 17): ≤ 50 ms at p50.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import requests
from common import percentile, throwaway_database
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

TARGET_SQL = 15
TARGET_WAIT_MS = 50.0
SANDBOX_FORM = {"company": "demo", "username": "demo", "password": "sandbox-demo"}
NO_LIMITS = {
    "ONRAMP_VALIDATIONS_PER_IP_HOUR": 10**9,
    "ONRAMP_VALIDATIONS_PER_END_USER_MINUTE": 10**9,
    "ONRAMP_VALIDATIONS_PER_HOST_MINUTE": 10**9,
    "ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL": 10**9,
}
remote_ms: list[float] = []  # the Sandbox's time per answer since the last clear


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_sandbox() -> str:
    """The Sandbox ERP on a local port, timing each answer into ``remote_ms``."""
    from config.wsgi import application

    def timed(environ: dict, start_response: object) -> list[bytes]:
        started = time.perf_counter()
        body = list(application(environ, start_response))
        remote_ms.append((time.perf_counter() - started) * 1000)
        return body

    server = make_server("127.0.0.1", 0, timed, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def one_validation(partner: object) -> tuple[float, float, int, str]:
    """A submit's validation in this process: (total ms, remote ms, SQL, final status)."""
    from catalog.registry import get_definition
    from connections.models import ValidationAttempt
    from connections.services.validation import attempt_start
    from tests.factories import link_session

    session, _ = link_session(partner, locale="en")
    definition = get_definition("sandbox-erp")
    remote_ms.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        attempt = attempt_start(
            session=session,
            definition=definition,
            method=definition.method("password"),
            config={"company": "demo", "username": "demo"},
            credentials={"password": "sandbox-demo"},
            client_ip="203.0.113.7",
        )
        total = (time.perf_counter() - started) * 1000
    status = ValidationAttempt.objects.values_list("status", flat=True).get(pk=attempt.pk)
    return total, sum(remote_ms), len(queries), status


def in_process(partner: object, runs: int) -> list[tuple[float, float, int, str]]:
    for name, value in NO_LIMITS.items():
        setattr(settings, name, value)
    for _ in range(20):
        one_validation(partner)  # warm-up
    return [one_validation(partner) for _ in range(runs)]


def end_user_waits(partner: object, sandbox: str, users: int) -> list[tuple[float, float, int]]:
    """Submit → done screen through gunicorn and a worker: (total ms, remote ms, polls)."""
    from tests.stack import open_stack

    host_map = f"*.sandbox-erp.test={sandbox}"
    base_env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "ONRAMP_TEST_HOST_MAP": host_map,
        "LOG_LEVEL": "WARNING",
        **{name: str(value) for name, value in NO_LIMITS.items()},
    }
    stack_context = contextlib.contextmanager(open_stack)
    with stack_context(base_env=base_env, tmp=Path(tempfile.mkdtemp())) as stack:
        stack.worker()
        web = stack.gunicorn()
        for _ in range(5):
            submit_to_done(web, partner)  # warm-up: every process has served it once
        return [submit_to_done(web, partner) for _ in range(users)]


def submit_to_done(web: str, partner: object) -> tuple[float, float, int]:
    """One end user, as htmx does it: submit, poll when told, then load the done screen."""
    from tests.factories import link_session

    _, token = link_session(partner, locale="en")
    base, htmx = f"{web}/connect/{token}/", {"HX-Request": "true"}
    browser = requests.Session()
    browser.get(base + "s/sandbox-erp/password/details/")
    remote_ms.clear()
    started, polls = time.perf_counter(), 0
    answer = browser.post(base + "s/sandbox-erp/password/details/", SANDBOX_FORM, headers=htmx)
    while "is connected" not in answer.text:
        if "HX-Redirect" in answer.headers:  # a full page load of the done screen
            answer = browser.get(web + answer.headers["HX-Redirect"])
            continue
        delay = re.search(r'hx-get="([^"]+)" hx-trigger="load delay:(\d+)ms"', answer.text)
        assert delay, answer.text[:500]  # a failure would show no poll
        time.sleep(int(delay.group(2)) / 1000)
        answer, polls = browser.get(web + delay.group(1), headers=htmx), polls + 1
    return (time.perf_counter() - started) * 1000, sum(remote_ms), polls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--users", type=int, default=40)
    options = parser.parse_args()
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    with throwaway_database() as vendor:
        from catalog.sync import catalog_sync
        from connections.services.partners import partner_create

        catalog_sync()
        sandbox = serve_sandbox()
        settings.ONRAMP_OUTBOUND_HOST_MAP = f"*.sandbox-erp.test={sandbox}"
        partner, _ = partner_create(name="Bench", origins=[], actor="bench")
        report_in_process(vendor, in_process(partner, options.runs))
        if vendor == "postgresql" and settings.USING_REDIS:
            report_waits(end_user_waits(partner, sandbox, options.users))
        else:
            print("\nthe end user's wait: skipped (needs PostgreSQL and Redis)")


def report_in_process(vendor: str, samples: list[tuple[float, float, int, str]]) -> None:
    assert {status for *_, status in samples} == {"succeeded"}
    totals = [total for total, *_ in samples]
    remotes = [remote for _, remote, *_ in samples]
    overheads = [total - remote for total, remote, *_ in samples]
    sql = max(count for _, _, count, _ in samples)
    print(f"database: {vendor}; {len(samples)} validations against the Sandbox ERP, in process\n")
    _table({"total": totals, "remote": remotes, "ours": overheads})
    verdict = "yes" if sql <= TARGET_SQL else "NO"
    print(f"\nSQL per validation (submit + check): {sql}   target ≤ {TARGET_SQL}: {verdict}")


def report_waits(samples: list[tuple[float, float, int]]) -> None:
    totals = [total for total, _, _ in samples]
    remotes = [remote for _, remote, _ in samples]
    waits = [total - remote for total, remote, _ in samples]
    polls = statistics.mean(count for *_, count in samples)
    print(f"\nthe end user's wait, submit → done screen: {len(samples)} users, one at a time")
    print("(gunicorn and a Celery worker, PostgreSQL, Redis)\n")
    _table({"total": totals, "remote": remotes, "beyond it": waits})
    p50 = percentile(waits, 0.5)
    verdict = "yes" if p50 <= TARGET_WAIT_MS else "NO"
    print(f"\npolls per validation: {polls:.1f}")
    print(f"wait beyond the remote, target ≤ {TARGET_WAIT_MS:.0f} ms at p50: {verdict}")


def _table(rows: dict[str, list[float]]) -> None:
    print(f"{'ms':<12}{'p50':>9}{'p95':>9}{'mean':>9}")
    for name, values in rows.items():
        print(
            f"{name:<12}{percentile(values, 0.5):>9.2f}{percentile(values, 0.95):>9.2f}"
            f"{statistics.mean(values):>9.2f}"
        )


if __name__ == "__main__":
    main()
