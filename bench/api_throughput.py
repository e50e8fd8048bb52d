"""Benchmark the partner-facing hot paths on a real server (gunicorn) and print a table.

    .venv/bin/python bench/api_throughput.py [--seconds 5]

- Introspection throughput (``GET /api/v1/connection``) against a bare Django JSON view doing
  one indexed SELECT, on the same gunicorn, in the same run, loaded by ``wrk``
  (``apt-get install wrk``). Target: ratio ≥ 0.5.
- The proxy's own overhead: p50 of a call through ``/api/v1/proxy/`` on that gunicorn minus
  p50 of the same call made straight to the simulated remote (Infoplus). Target: ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import throwaway_database
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
TARGET_OVERHEAD_MS = 5.0


def seed() -> tuple[str, str]:
    """1,000 Infoplus connections (site "acme"); one of their tokens."""
    from catalog.sync import catalog_sync
    from connections.services.partners import partner_create
    from tests.factories import connected

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    tokens = [connected(partner, end_user_id=f"user-{i}")[1] for i in range(1000)]
    return tokens[500], connection.settings_dict["NAME"]


def gunicorn(database: str, port: int, host_map: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CONN_MAX_AGE": "60",
        "ONRAMP_TEST_HOST_MAP": host_map,
        "ONRAMP_PROXY_REQUESTS_PER_MINUTE": str(10**9),
        "LOG_LEVEL": "WARNING",
    }
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "/dev/null"),
        "config.wsgi",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    time.sleep(3)
    return server


def wrk(url: str, seconds: int, header: str) -> float:
    output = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "-H", header, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def throughput(base: str, token: str, seconds: int) -> None:
    from connections.security import tokens

    wrk(f"{base}/api/v1/connection", 1, f"Authorization: Bearer {token}")  # warm up
    bare = wrk(f"{base}/bench/bare-select/", seconds, f"X-Digest: {tokens.digest(token)}")
    ours = wrk(f"{base}/api/v1/connection", seconds, f"Authorization: Bearer {token}")
    ratio = ours / bare
    print(f"{'bare view, one indexed SELECT':<34}{bare:>10.0f} req/s")
    print(f"{'GET /api/v1/connection':<34}{ours:>10.0f} req/s")
    print(f"{'ratio (target ≥ 0.5)':<34}{ratio:>10.2f}   {'yes' if ratio >= 0.5 else 'NO'}\n")


def proxy_overhead(base: str, fake_url: str, token: str, seconds: int) -> None:
    """One connection at a time (``wrk -c1``): p50 through the proxy minus p50 direct."""
    path = "infoplus-wms/api/v3.0/lineOfBusiness/search?limit=1"
    direct = wrk_p50(f"{fake_url}/{path}", seconds, "Host: acme.infopluswms.com", "API-Key: key-1")
    proxied = wrk_p50(f"{base}/api/v1/proxy/{path}", seconds, f"Authorization: Bearer {token}")
    bare = wrk_p50(f"{base}/bench/bare-select/", seconds)
    overhead = proxied - direct
    verdict = "yes" if overhead <= TARGET_OVERHEAD_MS else "NO"
    print(f"{'a bare Django view, p50 (context)':<34}{bare:>10.2f} ms")
    print(f"{'remote alone, p50':<34}{direct:>10.2f} ms")
    print(f"{'through the proxy, p50':<34}{proxied:>10.2f} ms")
    print(f"{'overhead (target ≤ 5 ms)':<34}{overhead:>10.2f} ms   {verdict}")


def wrk_p50(url: str, seconds: int, *headers: str) -> float:
    arguments = [item for header in headers for item in ("-H", header)]
    command = ["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", *arguments, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    import logging

    from tests.fakes.infoplus import FakeInfoplus

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    options = parser.parse_args()
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    fake = FakeInfoplus().start()
    fake.sites["acme"] = {"key-1"}
    with throwaway_database() as vendor:
        print(f"database: {vendor}; gunicorn with 2 workers on this machine\n")
        token, database = seed()
        server = gunicorn(database, 8765, f"*.infopluswms.com={fake.url}")
        try:
            if not shutil.which("wrk"):
                print("skipped: install wrk (apt-get install wrk)")
                return
            throughput("http://127.0.0.1:8765", token, options.seconds)
            proxy_overhead("http://127.0.0.1:8765", fake.url, token, options.seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    fake.stop()


if __name__ == "__main__":
    main()
