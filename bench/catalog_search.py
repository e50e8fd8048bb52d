"""Benchmark catalog search (the choose screen's search as you type) and print tables.

    .venv/bin/python bench/catalog_search.py [--sizes 5000 50000] [--runs 50] [--rebuilds 5]

Loads the real catalog plus synthetic systems into a throwaway database; builds the search
index as a worker does (once per catalog version, stored) and loads it as a web process does,
and times a fixed query mix (exact names, prefixes, typos, vendors, categories, several words,
nothing found). Targets: p95 ≤ 5 ms at 5,000 systems and ≤ 10 ms at 50,000. Then counts the
SQL of one keystroke (the htmx search of the choose screen) and, at the largest size, serves
Onramp with gunicorn (2 workers) while an operator's switch changes the catalog
``--rebuilds`` times: the build, how long until every answer shows the change, the slowest
search meanwhile, and each worker's memory (RSS) before and after each rebuild (target ≤ 150
MB per worker at 50,000 systems, flat across rebuilds).
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import shutil
import subprocess
import time

from api_throughput import gunicorn
from catalog_memory import keystroke_queries, memory_across_rebuilds
from common import percentile, throwaway_database
from django.db import connection

QUERIES = [
    "netsuite", "netsute", "acu", "buisness central", "business central", "microsoft",
    "oracle", "wms", "sap b1", "infor sx", "xero", "quickbooks", "a", "zz", "inventory",
    "ship", "mint", "odoo", "zzzz qqqq", "cloud erp",
]  # fmt: skip
TARGETS_MS = {5000: 5.0, 50000: 10.0}
WORDS = [
    "alpha", "bright", "cargo", "delta", "ember", "falcon", "granite", "harbor", "iris", "jade",
    "krypton", "lumen", "maple", "nimbus", "orbit", "pine", "quartz", "raven", "summit", "tide",
    "umber", "vector", "willow", "xenon", "yarrow", "zephyr", "stock", "ledger", "freight",
    "depot", "cloud", "suite", "ware", "fleet", "asset", "order", "books",
]  # fmt: skip


def synthetic(count: int) -> list:
    from catalog.models import System

    rng = random.Random(7)
    rows = []
    for n in range(count):
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n}"
        rows.append(
            System(
                slug=f"synthetic-{n}",
                name=name,
                vendor=f"{rng.choice(WORDS).title()} Software",
                categories=[rng.choice(["erp", "wms", "inventory", "cmms", "accounting"])],
                aliases=[f"{rng.choice(WORDS)}{n % 97}"],
                popularity=rng.randint(0, 100),
            )
        )
    return rows


def measure(size: int, runs: int) -> tuple[float, float, int, float, float, float]:
    """Build (ms, as a worker), load (ms, as each web process), the index's size and the
    query mix's p50 and p95 (ms), and its p95 in CPU time (what a busy machine adds aside)."""
    from catalog.models import System
    from catalog.search import catalog_changed, current_index, search_systems

    System.objects.filter(slug__startswith="synthetic-").delete()
    System.objects.bulk_create(synthetic(size - System.objects.count()), batch_size=2000)
    started = time.perf_counter()
    catalog_changed()  # the worker's part (tasks run in line here): build, store, announce
    build = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    index = current_index()  # a web process's part: read the stored index and load it
    load = (time.perf_counter() - started) * 1000
    samples, cpu = [], []
    for _ in range(runs):
        for query in QUERIES:
            begun, begun_cpu = time.perf_counter(), time.thread_time()
            search_systems(query)
            samples.append((time.perf_counter() - begun) * 1000)
            cpu.append((time.thread_time() - begun_cpu) * 1000)
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    return build, load, index.size, p50, p95, percentile(cpu, 0.95)


SCREENS = [
    ("first screen (choose)", "", False),
    ("search as you type", "systems/?q=netsute", True),
    ("another screen (a guide)", "s/infoplus/api_key/", False),
]


def screens_under_load(seconds: int) -> None:
    """50 concurrent users on each screen of one link session, on gunicorn (2 workers)."""
    from connections.services.partners import partner_create
    from tests.factories import link_session

    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    _, link_token = link_session(partner)
    server = gunicorn(connection.settings_dict["NAME"], 8766, "")
    try:
        base = f"http://127.0.0.1:8766/connect/{link_token}/"
        print(f"\n{'screen, 50 users':<28}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}")
        for label, path, htmx in SCREENS:
            wrk_run(base + path, 1, htmx)  # warm up: each worker builds its index
            rate, p50, p99 = wrk_run(base + path, seconds, htmx)
            print(f"{label:<28}{rate:>8.0f}{p50:>9.1f}{p99:>9.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def wrk_run(url: str, seconds: int, htmx: bool) -> tuple[float, float, float]:
    headers = ["-H", "HX-Request: true"] if htmx else []
    command = ["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency", *headers, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rate, _latency(output, "50%"), _latency(output, "99%")


def _latency(output: str, share: str) -> float:
    value, unit = re.search(rf"{share}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rebuilds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5, help="per screen under load")
    options = parser.parse_args()
    for noisy in ("celery", "catalog"):  # a line per build and per task
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with throwaway_database() as vendor:
        from catalog.sync import catalog_sync

        catalog_sync()
        print(f"database: {vendor}; {len(QUERIES)} queries x {options.runs} runs per size\n")
        print(
            f"{'systems':>8}{'build ms':>10}{'load ms':>9}{'index MB':>10}"
            f"{'p50 ms':>8}{'p95 ms':>8}{'p95 CPU':>9}{'target':>8}  ok"
        )
        for size in options.sizes:
            build, load, index_size, p50, p95, p95_cpu = measure(size, options.runs)
            target = TARGETS_MS.get(size, 10.0)
            verdict = "yes" if p95 <= target else "NO"
            print(
                f"{size:>8}{build:>10.0f}{load:>9.0f}{index_size / 1e6:>10.1f}"
                f"{p50:>8.2f}{p95:>8.2f}{p95_cpu:>9.2f}{target:>8.1f}  {verdict}"
            )
        queries, writes = keystroke_queries()
        print(f"\none keystroke (htmx search): {queries} SQL, {writes} writes (target: no write)")
        if vendor != "postgresql":
            print("\nworkers and screens under load: skipped (needs PostgreSQL)")
            return
        memory_across_rebuilds(max(options.sizes), options.rebuilds)
        if shutil.which("wrk"):
            screens_under_load(options.seconds)
        else:
            print("\nscreens under load: skipped (needs wrk)")


if __name__ == "__main__":
    main()
