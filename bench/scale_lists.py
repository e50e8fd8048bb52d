"""Lists at scale: the partner API's connections and deliveries, the admin's changelists and
its systems page, against a database seeded by ``seed_scale.py``, as ratios to a bare
Django view doing one indexed SELECT, on the same gunicorn in the same run.

    .venv/bin/python bench/scale_lists.py [--scale 1.0] [--rounds 100] [--reuse] [--keep]

At ``--scale 1``: 100k connections, 100k link sessions, 1M events, 1M deliveries (seeding
takes a few minutes; ``--keep`` then ``--reuse`` measures again without reseeding). Requests
go one at a time, in rounds of one request per target, so that load from elsewhere on a
shared machine weighs on every target alike. Targets (issue 17): the API's p95 ≤ 3x the bare
view's at any depth (first page, page 500 by cursor); each changelist ≤ 10 queries and
p50 ≤ 5x the bare view's. Query counts are taken in-process (Django's test client) on the
same database.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from api_throughput import gunicorn
from common import percentile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from seed_scale import Seeded, scale_database, seed

LIMIT = 50
DEEP_PAGE = 500
ADMIN_PAGES = {
    "admin: connections": "/admin/connections/connection/",
    "admin: link sessions": "/admin/connections/linksession/",
    "admin: events": "/admin/connections/event/",
    "admin: webhook deliveries": "/admin/connections/webhookdelivery/",
    "admin: validation attempts": "/admin/connections/validationattempt/",
    "admin: systems": "/admin/catalog/system/",
    "admin: an empty list (context)": "/admin/connections/oauthapp/",
}


@dataclass
class Target:
    name: str
    path: str
    headers: dict[str, str]
    kind: str  # "bare", "api", "compat" (the offset path: no target) or "admin"


@dataclass
class Row:
    target: Target
    p50: float
    p95: float
    queries: int


def prepared(scale: float, reuse: bool) -> Seeded:
    """The seeded rows (seeded now, unless ``reuse`` finds them), a live key, the figures."""
    from connections.models import Connection, Partner
    from connections.services.partners import partner_key_create
    from connections.services.system_figures import system_figures_count

    if reuse and Connection.objects.exists():
        partner = Partner.objects.get(name="Bench")
        _, secret = partner_key_create(partner=partner, actor="bench")
        counts = {"connections": Connection.objects.count()}
        seeded = Seeded(partner.pk, secret, counts)
    else:
        seeded = seed(scale)
    started = time.perf_counter()
    system_figures_count()
    print(f"systems page figures recounted in {time.perf_counter() - started:.2f} s (beat)")
    return seeded


def deep_cursor(seeded: Seeded, scope: str, rows: object) -> tuple[str, int]:
    """A cursor to page 500 of a list (or its last page, when shorter), and the page."""
    from connections.api.cursors import cursor_after
    from connections.models import Partner
    from connections.selectors import NEWEST_FIRST

    total = rows.count()
    page = min(DEEP_PAGE, max(2, total // LIMIT))
    before = rows.order_by(*NEWEST_FIRST)[(page - 1) * LIMIT - 1 : (page - 1) * LIMIT]
    partner = Partner.objects.get(pk=seeded.partner_id)
    return cursor_after(list(before), True, scope=scope, partner=partner), page


def targets(seeded: Seeded, cookie: str) -> list[Target]:
    from connections.api.schemas import MAX_OFFSET
    from connections.models import Connection, WebhookDelivery

    key = {"Authorization": f"Bearer {seeded.secret}"}
    mine = Connection.objects.filter(partner_id=seeded.partner_id, mode="live")
    cursor, page = deep_cursor(seeded, "connections", mine)
    sent = WebhookDelivery.objects.filter(endpoint__partner_id=seeded.partner_id)
    delivery_cursor, delivery_page = deep_cursor(seeded, "webhook-deliveries", sent)
    api = "/api/v1/connections?limit=50"
    offset = min(MAX_OFFSET, mine.count() - LIMIT)
    found = [
        Target("bare view, one indexed SELECT", "/bench/bare-select/", {"X-Digest": "0"}, "bare"),
        Target("API connections, first page", api, key, "api"),
        Target(f"API connections, page {page} (cursor)", f"{api}&cursor={cursor}", key, "api"),
        Target(f"API connections, offset {offset:,}", f"{api}&offset={offset}", key, "compat"),
        Target("API deliveries, first page", "/api/v1/webhook-deliveries?limit=50", key, "api"),
        Target(
            f"API deliveries, page {delivery_page} (cursor)",
            f"/api/v1/webhook-deliveries?limit=50&cursor={delivery_cursor}",
            key,
            "api",
        ),
    ]
    admin = {"Cookie": f"sessionid={cookie}"}
    found += [Target(name, path, admin, "admin") for name, path in ADMIN_PAGES.items()]
    return found


def operator() -> tuple[Client, str]:
    """A signed-in superuser: a test client, and its session cookie for the server."""
    from django.contrib.auth.models import User

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@bench.test", "bench-password-1"
    )
    client = Client()
    client.force_login(user)
    return client, client.cookies["sessionid"].value


def queries(client: Client, target: Target) -> int:
    """SQL statements one request of ``target`` makes (in-process, same database)."""
    headers = {k: v for k, v in target.headers.items() if k != "Cookie"}
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target.path, headers=headers)
    assert response.status_code == 200, (target.path, response.status_code)
    return len(captured)


def get(port: int, target: Target) -> Callable[[], None]:
    def call() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", target.path, headers=target.headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, (target.path, response.status)
        conn.close()

    return call


def measure(port: int, found: list[Target], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request of each target, taken in rounds of one request each."""
    calls = {target.name: get(port, target) for target in found}
    for _ in range(5):
        for call in calls.values():
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def row_of(target: Target, samples: list[float], queries: int) -> Row:
    return Row(target, percentile(samples, 0.5), percentile(samples, 0.95), queries)


def verdict(row: Row, bare: Row) -> tuple[str, str]:
    """The ratio the target is about (API: p95; admin: p50), and whether it is met."""
    if row.target.kind in ("api", "compat"):
        ratio = row.p95 / bare.p95
        met = "yes" if ratio <= 3 else "NO"
        return f"{ratio:.1f}x p95", met if row.target.kind == "api" else "-"
    if row.target.kind == "admin":
        ratio = row.p50 / bare.p50
        met = ratio <= 5 and row.queries <= 10
        return f"{ratio:.1f}x p50", "yes" if met else "NO"
    return "", ""


def report(rows: list[Row]) -> None:
    bare = rows[0]
    print(f"\n{'what':<40}{'p50 ms':>8}{'p95 ms':>8}{'SQL':>5}  {'ratio':<11}target met")
    for row in rows:
        ratio, met = verdict(row, bare)
        print(
            f"{row.target.name:<40}{row.p50:>8.1f}{row.p95:>8.1f}{row.queries:>5}  "
            f"{ratio:<11}{met}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def run(options: argparse.Namespace, database: str) -> None:
    seeded = prepared(options.scale, options.reuse)
    client, cookie = operator()
    found = targets(seeded, cookie)
    counts = {t.name: queries(client, t) if t.kind != "bare" else 1 for t in found}
    port = free_port()
    server = gunicorn(database, port, "")
    try:
        wait_for(port)
        samples = measure(port, found, options.rounds)
        report([row_of(target, samples[target.name], counts[target.name]) for target in found])
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100k/100k/1M/1M")
    parser.add_argument("--rounds", type=int, default=100, help="requests of each target")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    with scale_database(keep=options.keep, reuse=options.reuse) as database:
        print(f"database: {database} (PostgreSQL); gunicorn, 2 workers; one request at a time")
        run(options, database)


if __name__ == "__main__":
    main()
