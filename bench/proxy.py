"""Benchmark the proxy's own cost on a real server (gunicorn) and print a table.

    .venv/bin/python bench/proxy.py [--seconds 5] [--rounds 3] [--remote-ms 100]

Onramp is served by gunicorn as configured (``config/gunicorn.py``: 2 workers, threaded)
beside a bare Django view doing one indexed SELECT, with a simulated Infoplus as the remote
(reached through the host map). Each round, loaded by ``wrk``:

1. One caller at a time (``-c1``) against a remote that answers at once: p50 of a call
   through ``/api/v1/proxy/`` minus p50 of the same call made straight to the remote.
   Target (issue 17): ≤ 5 ms.
2. Twenty callers at once (``-c20``) against a remote that takes ``--remote-ms`` to answer:
   calls per second and p50 through the proxy and straight to the remote. Target: the
   throughput does not collapse while remote calls wait (the ratio stays near 1).

The in-flight caps are raised for the run (one token serves every caller); the rate limit
too. Medians over ``--rounds`` rounds are printed, each round's figures beside them.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import throwaway_database
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
TARGET_OVERHEAD_MS = 5.0
QUICK = "infoplus-wms/api/v3.0/lineOfBusiness/search?limit=1"
SLOW = "infoplus-wms/api/v3.0/purchaseOrder/search?page=1&limit=1"  # stalled by the fake
UNCAPPED = {
    "ONRAMP_PROXY_REQUESTS_PER_MINUTE": str(10**9),
    "ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION": "1000",
    "ONRAMP_PROXY_IN_FLIGHT_PER_PARTNER": "1000",
    "ONRAMP_PROXY_IN_FLIGHT_PER_HOST": "1000",
}


def seed() -> tuple[str, str]:
    """100 Infoplus connections (site "acme"); one of their tokens."""
    from catalog.sync import catalog_sync
    from connections.services.partners import partner_create
    from tests.factories import connected

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    tokens = [connected(partner, end_user_id=f"user-{i}")[1] for i in range(100)]
    return tokens[50], connection.settings_dict["NAME"]


def gunicorn(database: str, port: int, host_map: str, threads: int | None) -> subprocess.Popen:
    env = {
        **os.environ,
        **({"GUNICORN_THREADS": str(threads)} if threads else {}),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CONN_MAX_AGE": "60",
        "ONRAMP_TEST_HOST_MAP": host_map,
        "LOG_LEVEL": "WARNING",
        **UNCAPPED,
    }
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"),
        *("--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"),
        "config.wsgi",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    time.sleep(3)
    return server


def wrk(url: str, seconds: int, users: int, *headers: str) -> tuple[float, float]:
    """(calls per second, p50 ms) of ``users`` callers for ``seconds``."""
    arguments = [item for header in headers for item in ("-H", header)]
    threads = min(users, 2)
    command = ["wrk", f"-t{threads}", f"-c{users}", f"-d{seconds}s", "--latency", *arguments, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", output).groups()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def one_round(base: str, remote: str, token: str, seconds: int) -> dict[str, float]:
    bearer, direct = (
        f"Authorization: Bearer {token}",
        ("Host: acme.infopluswms.com", "API-Key: key-1"),
    )
    figures = {}
    figures["bare p50"] = wrk(f"{base}/bench/bare-select/", seconds, 1)[1]
    figures["direct p50"] = wrk(f"{remote}/{QUICK}", seconds, 1, *direct)[1]
    figures["proxy p50"] = wrk(f"{base}/api/v1/proxy/{QUICK}", seconds, 1, bearer)[1]
    figures["overhead"] = figures["proxy p50"] - figures["direct p50"]
    rate, p50 = wrk(f"{remote}/{SLOW}", seconds, 20, *direct)
    figures |= {"c20 direct/s": rate, "c20 direct p50": p50}
    rate, p50 = wrk(f"{base}/api/v1/proxy/{SLOW}", seconds, 20, bearer)
    figures |= {"c20 proxy/s": rate, "c20 proxy p50": p50}
    figures["c20 ratio"] = figures["c20 proxy/s"] / figures["c20 direct/s"]
    return figures


def report(rounds: list[dict[str, float]], remote_ms: int) -> None:
    print(f"{'':<18}{'median':>9}   rounds")
    for name in rounds[0]:
        values = [figures[name] for figures in rounds]
        each = ", ".join(f"{value:.2f}" for value in values)
        print(f"{name:<18}{statistics.median(values):>9.2f}   {each}")
    overhead = statistics.median(figures["overhead"] for figures in rounds)
    ratio = statistics.median(figures["c20 ratio"] for figures in rounds)
    verdict = "yes" if overhead <= TARGET_OVERHEAD_MS else "NO"
    print(f"\nc=1 overhead over the remote, p50 (target ≤ {TARGET_OVERHEAD_MS:.0f} ms): {verdict}")
    print(f"c=20, remote {remote_ms} ms: the proxy serves {ratio:.2f} times the direct call rate")


def main() -> None:
    from tests.fakes.infoplus import FakeInfoplus

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--remote-ms", type=int, default=100)
    parser.add_argument("--threads", type=int, help="per worker (default: config/gunicorn.py's)")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("install wrk first (apt-get install wrk)")
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    fake = FakeInfoplus().start()
    fake.sites["acme"] = {"key-1"}
    fake.stall[1] = options.remote_ms / 1000
    with throwaway_database() as vendor:
        token, database = seed()
        server = gunicorn(database, 8766, f"*.infopluswms.com={fake.url}", options.threads)
        try:
            threads = options.threads or "as configured"
            print(f"database: {vendor}; gunicorn (config/gunicorn.py), threads: {threads}\n")
            base = "http://127.0.0.1:8766"
            wrk(f"{base}/api/v1/proxy/{QUICK}", 1, 4, f"Authorization: Bearer {token}")  # warm
            rounds = [
                one_round(base, fake.url, token, options.seconds) for _ in range(options.rounds)
            ]
            report(rounds, options.remote_ms)
        finally:
            server.terminate()
            server.wait(timeout=10)
    fake.stop()


if __name__ == "__main__":
    main()
