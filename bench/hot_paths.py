"""Benchmark Onramp's hot paths and print a table.

    .venv/bin/python bench/hot_paths.py [--requests 2000]

Runs in-process against a throwaway test database (PostgreSQL when it answers, like the
test suite), with 1,000 connections in place:
- token introspection (GET /api/v1/connection), which downstream APIs call on every request;
- link session creation (POST /api/v1/link-sessions);
- the first flow screen (GET /connect/<token>/).
"""

from __future__ import annotations

import argparse
import statistics

from common import percentile, throwaway_database, timed
from django.test import Client

TARGETS_MS = {"introspection": 10.0, "link session": 50.0, "flow: choose screen": 50.0}


def seed() -> tuple[Client, str, str]:
    from catalog.sync import catalog_sync
    from connections.services.partners import partner_create
    from tests.factories import connected, link_session

    catalog_sync()
    partner, secret = partner_create(name="Bench", origins=["https://bench.test"], actor="bench")
    tokens = [connected(partner, end_user_id=f"user-{i}")[1] for i in range(1000)]
    _, link_token = link_session(partner)
    return Client(headers={"Authorization": f"Bearer {secret}"}), tokens[500], link_token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    count = parser.parse_args().requests
    with throwaway_database() as vendor:
        api, access_token, link_token = seed()
        introspect = Client(headers={"Authorization": f"Bearer {access_token}"})
        body = {"end_user": {"id": "bench-user"}}
        runs = {
            "introspection": lambda: introspect.get("/api/v1/connection"),
            "link session": lambda: api.post(
                "/api/v1/link-sessions", body, content_type="application/json"
            ),
            "flow: choose screen": lambda: Client().get(f"/connect/{link_token}/"),
        }
        print(f"database: {vendor}; {count} requests each, after 50 warm-up\n")
        print(f"{'path':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean':>9}{'target':>9}  ok")
        for name, call in runs.items():
            timed(call, 50)
            samples = timed(call, count if name == "introspection" else count // 4)
            p95 = percentile(samples, 0.95)
            print(
                f"{name:<22}{percentile(samples, 0.5):>9.2f}{p95:>9.2f}"
                f"{percentile(samples, 0.99):>9.2f}{statistics.mean(samples):>9.2f}"
                f"{TARGETS_MS[name]:>9.1f}  {'yes' if p95 <= TARGETS_MS[name] else 'NO'}"
            )


if __name__ == "__main__":
    main()
