"""Benchmark syncs: an initial sync of many purchase orders from the Sandbox ERP, an
incremental one finding 1% changed, and the partner list API over what was synced.

    .venv/bin/python bench/syncs.py [--orders 20000]   # --orders 100000 for the issue's size

The Sandbox ERP runs in a process of its own (its records in its memory, not this one's), on a
local port reached through the host map; this process is the worker. "remote" is the time
spent waiting on the Sandbox's pages, "overhead" Onramp's own work per record (mapping,
hashing, writing). Peak memory is this process's maximum resident size: flat as the orders
grow, since a run holds one page at a time.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import resource
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

from common import percentile, throwaway_database, timed
from django.conf import settings
from django.db import connection, connections


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_sandbox(orders: int, pipe: multiprocessing.connection.Connection) -> None:
    """The Sandbox ERP with ``orders`` purchase orders; touches a share of them on request."""
    from catalog import sandbox_data
    from config.wsgi import application

    records = sandbox_data.reset(purchase_orders=orders)
    server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pipe.send(f"http://127.0.0.1:{server.server_address[1]}")
    while (share := pipe.recv()) is not None:
        for order in records.purchase_orders[:: int(1 / share)]:
            sandbox_data.touch(order, state="CLOSED")
        pipe.send("touched")


def remote_timer(remote: list[float]) -> None:
    from connections.outbound import client as outbound

    original = outbound.Client.request

    def request(self: object, *args: object, **kwargs: object) -> object:
        response = original(self, *args, **kwargs)
        remote.append(response.elapsed)
        return response

    outbound.Client.request = request  # type: ignore[method-assign]


def run_sync(state_id: str, remote: list[float]) -> tuple[float, float]:
    from connections.syncs.models import SyncState, SyncStatus
    from connections.syncs.runs import sync_run

    SyncState.objects.filter(pk=state_id).update(status=SyncStatus.QUEUED)
    remote.clear()
    started = time.perf_counter()
    sync_run(state_id=state_id, pages=10**6)
    return time.perf_counter() - started, sum(remote)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument(
        "--records",
        type=int,
        default=0,
        help="copy the synced orders (SQL) up to this many records, then time the list there",
    )
    args = parser.parse_args()
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    with throwaway_database() as vendor:
        from catalog.sync import catalog_sync
        from connections.models import SyncState
        from connections.services.partners import partner_create
        from tests.factories import connected

        catalog_sync()
        connections.close_all()  # nothing shared with the forked Sandbox
        mine, theirs = multiprocessing.Pipe()
        sandbox = multiprocessing.get_context("fork").Process(
            target=serve_sandbox, args=(args.orders, theirs), daemon=True
        )
        sandbox.start()
        settings.ONRAMP_OUTBOUND_HOST_MAP = f"*.sandbox-erp.test={mine.recv()}"
        settings.ONRAMP_SYNC_HISTORY_DAYS = 200  # every order
        partner, _ = partner_create(name="Bench", origins=[], actor="bench")
        sandbox_connection, token = connected(
            partner,
            system="sandbox-erp",
            config={"company": "demo", "username": "demo"},
            credentials={"password": "sandbox-demo"},
        )
        state = SyncState.objects.create(connection=sandbox_connection, model="purchase_orders")
        remote: list[float] = []
        remote_timer(remote)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        initial = run_sync(state.pk, remote)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        mine.send(0.01)
        mine.recv()
        incremental = run_sync(state.pk, remote)
        mine.send(None)
        report(vendor, args.orders, state.pk, initial, incremental, before, peak)
        lists(token, sandbox_connection)
        if args.records and vendor == "postgresql":
            grow(sandbox_connection, args.records)
            lists(token, sandbox_connection)


def report(vendor, orders, state_id, initial, incremental, before, peak) -> None:
    from connections.syncs.models import SyncRun

    first, second = SyncRun.objects.filter(state_id=state_id).order_by("started_at")
    print(f"database: {vendor}; {orders:,} purchase orders from the Sandbox ERP\n")
    for label, run, (total, remote) in (("initial", first, initial), ("1%", second, incremental)):
        written = run.added + run.updated + run.deleted
        print(
            f"{label:>8}: {run.pages} pages, {written:,} written, {run.unchanged:,} unchanged "
            f"in {total:.1f} s ({(written + run.unchanged) / total:,.0f} records/s); remote "
            f"{remote:.1f} s, overhead {(total - remote) / max(run.pages * 100, 1) * 1000:.2f}"
            " ms per record read"
        )
    print(f"peak memory: {before / 1024:.0f} MB before the run, {peak / 1024:.0f} MB after")
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('connections_syncedrecord')")
            print(f"synced records on disk: {cursor.fetchone()[0] / 1024**2:.0f} MB")


def grow(sandbox_connection: object, records: int) -> None:
    """Copy the synced orders, each with a new id and change number, up to ``records``."""
    started = time.perf_counter()
    with connection.cursor() as db:
        db.execute(
            "SELECT count(*), max(change_seq) FROM connections_syncedrecord WHERE model = "
            "'purchase_orders'"
        )
        have, last = db.fetchone()
        copies = max(records // max(have, 1) - 1, 0)
        db.execute(
            "INSERT INTO connections_syncedrecord (connection_id, model, remote_id, "
            "content_hash, data, raw, deleted, remote_modified_at, seen_in, change_seq, "
            "changed_at, created_at) SELECT r.connection_id, r.model, r.remote_id || '-' || g, "
            "r.content_hash, r.data, r.raw, r.deleted, r.remote_modified_at, r.seen_in, "
            "%s + row_number() OVER (), r.changed_at, r.created_at "
            "FROM connections_syncedrecord r CROSS JOIN generate_series(1, %s) g "
            "WHERE r.model = 'purchase_orders'",
            [last, copies],
        )
        db.execute("ANALYZE connections_syncedrecord")
        db.execute("SELECT count(*) FROM connections_syncedrecord")
        total = db.fetchone()[0]
    print(f"\ngrown to {total:,} records in {time.perf_counter() - started:.0f} s")


def lists(token: str, sandbox_connection: object) -> None:
    """Pages of 100: walked from the start, and from a cursor at 90% of the feed's depth."""
    from django.core import signing
    from django.test import Client

    from connections.api.syncs import _salt
    from connections.syncs.schemas import SyncModel

    client = Client(headers={"Authorization": f"Bearer {token}"})
    with connection.cursor() as db:
        db.execute("SELECT max(change_seq) FROM connections_syncedrecord")
        deepest = db.fetchone()[0] or 0
    salt = _salt(sandbox_connection, SyncModel.PURCHASE_ORDERS)
    for label, start in (("from the start", None), ("at 90% depth", int(deepest * 0.9))):
        cursor = [signing.dumps(start, salt=salt) if start else None]

        def page(cursor: list = cursor) -> None:
            query = {"page_size": 100, **({"cursor": cursor[0]} if cursor[0] else {})}
            answer = client.get("/api/v1/purchase-orders", query)
            assert answer.status_code == 200, answer.content[:200]
            cursor[0] = answer.json()["next_cursor"]

        samples = timed(page, 200)
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        print(f"list API, pages of 100 {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target 20)")
    if connection.vendor == "postgresql":
        with connection.cursor() as db:
            db.execute(
                "EXPLAIN SELECT * FROM connections_syncedrecord WHERE connection_id = %s AND "
                "model = 'purchase_orders' AND change_seq > %s AND NOT deleted "
                "ORDER BY change_seq LIMIT 101",
                [sandbox_connection.pk, int(deepest * 0.9)],
            )
            print("plan:", " / ".join(row[0].strip() for row in db.fetchall()[:2]))


if __name__ == "__main__":
    main()
