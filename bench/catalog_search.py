"""Benchmark catalog search (the choose screen's search as you type) and print a table.

    .venv/bin/python bench/catalog_search.py [--sizes 5000 50000] [--runs 300]

Loads the real catalog plus synthetic systems into a throwaway database, builds the search
index as a web process would, and times a fixed query mix (exact names, prefixes, typos,
vendors, categories, several words, nothing found). Targets: p95 ≤ 5 ms at 5,000 systems and
≤ 10 ms at 50,000.
"""

from __future__ import annotations

import argparse
import random
import time

from common import percentile, throwaway_database

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


def measure(size: int, runs: int) -> tuple[float, float, float]:
    from catalog.models import System
    from catalog.search import catalog_changed, current_index, search_systems

    System.objects.filter(slug__startswith="synthetic-").delete()
    System.objects.bulk_create(synthetic(size - System.objects.count()), batch_size=2000)
    catalog_changed()
    started = time.perf_counter()
    current_index()
    build = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(runs):
        for query in QUERIES:
            begun = time.perf_counter()
            search_systems(query)
            samples.append((time.perf_counter() - begun) * 1000)
    return build, percentile(samples, 0.5), percentile(samples, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--runs", type=int, default=50)
    options = parser.parse_args()
    with throwaway_database() as vendor:
        from catalog.sync import catalog_sync

        catalog_sync()
        print(f"database: {vendor}; {len(QUERIES)} queries x {options.runs} runs per size\n")
        print(f"{'systems':>8}{'build ms':>10}{'p50 ms':>9}{'p95 ms':>9}{'target':>9}  ok")
        for size in options.sizes:
            build, p50, p95 = measure(size, options.runs)
            target = TARGETS_MS.get(size, 10.0)
            verdict = "yes" if p95 <= target else "NO"
            print(f"{size:>8}{build:>10.0f}{p50:>9.3f}{p95:>9.3f}{target:>9.1f}  {verdict}")


if __name__ == "__main__":
    main()
