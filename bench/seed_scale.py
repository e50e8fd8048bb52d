"""Seed a throwaway PostgreSQL database with Onramp at scale, for ``bench/scale_lists.py``.

    .venv/bin/python bench/seed_scale.py [--scale 1.0] [--keep]

At ``--scale 1``: 100,000 connections, 100,000 link sessions, 1,000,000 events and 1,000,000
webhook deliveries (``--scale 0.1`` for a tenth), over ten partners of which the first holds
half of each, a tenth of them in test mode, created over the last 90 days; and as many
validation attempts as link sessions (a fifth of them failed, by code). Big tables are
written with PostgreSQL's COPY in one pass each, then vacuumed and analysed (as autovacuum
would have by then). The database is ``bench_scale_<checkout>``: dropped at the end unless
``--keep`` (``scale_lists.py --reuse`` then measures it again without reseeding).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import common  # noqa: F401 (Django, on the test settings)
from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.test.utils import setup_test_environment
from django.utils import timezone

FULL = {"connections": 100_000, "link_sessions": 100_000, "events": 1_000_000}
PARTNERS = 10
SPAN = timedelta(days=90)


@dataclass
class Seeded:
    partner_id: str  # the partner holding half of everything
    secret: str  # a live key of that partner
    counts: dict[str, int]


@contextmanager
def scale_database(*, keep: bool, reuse: bool) -> Iterator[str]:
    """``bench_scale_<checkout>``, migrated (kept as it is with ``reuse``); its name."""
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"bench_scale_{settings.CHECKOUT}"
    name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=reuse
    )
    try:
        yield name
    finally:
        if not keep:
            connection.creation.destroy_test_db(name, verbosity=0)


def seed(scale: float) -> Seeded:
    """The catalog, ten partners (the first with a live key), then the big tables."""
    from catalog.models import System
    from catalog.sync import catalog_sync
    from connections.models import Partner
    from connections.services.partners import partner_create

    catalog_sync()
    first, secret = partner_create(name="Bench", origins=[], actor="bench")
    others = Partner.objects.bulk_create(Partner(name=f"Partner {n}") for n in range(1, PARTNERS))
    partners = [first.pk, *(p.pk for p in others)]
    slugs = list(System.objects.values_list("slug", flat=True))
    counts = {name: max(1, int(full * scale)) for name, full in FULL.items()}
    counts["deliveries"] = counts["events"]
    started = time.perf_counter()
    _seed_tables(partners, slugs, counts)
    print(f"seeded {counts} in {time.perf_counter() - started:.0f} s")
    return Seeded(first.pk, secret, counts)


def _seed_tables(partners: list[str], slugs: list[str], counts: dict[str, int]) -> None:
    from connections.models import (
        Connection,
        Event,
        LinkSession,
        ValidationAttempt,
        WebhookDelivery,
    )

    connections = copy_rows(Connection, _connections(partners, slugs, counts["connections"]))
    sessions = copy_rows(LinkSession, _sessions(partners, slugs, counts["link_sessions"]))
    copy_rows(ValidationAttempt, _attempts(sessions, slugs))
    endpoints = _endpoints(partners)
    events = copy_rows(Event, _events(partners, connections, sessions, counts["events"]))
    copy_rows(WebhookDelivery, _deliveries(partners, endpoints, events))
    with connection.cursor() as cursor:
        for model in (Connection, LinkSession, ValidationAttempt, Event, WebhookDelivery):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def copy_rows(model: type[Model], rows: Iterable[dict[str, Any]]) -> list[str]:
    """COPY ``rows`` (column values by attribute name; the model's defaults for the rest)
    into the model's table; the ids written, in order."""
    fields = model._meta.concrete_fields
    defaults = {field.attname: field.get_default() for field in fields}
    columns = ", ".join(f'"{field.column}"' for field in fields)
    ids = []
    with connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                ids.append(row["id"])
                copy.write_row([_db(row.get(f.attname, defaults[f.attname])) for f in fields])
    return ids


def _db(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:22]}"


def _spread(count: int) -> Callable[[int], datetime]:
    """The i-th of ``count`` rows' creation time: evenly over the last 90 days."""
    start = timezone.now() - SPAN
    step = SPAN / count
    return lambda i: start + step * i


def _partner(partners: list[str], i: int) -> str:
    """Half of every table is the first partner's; the rest spread over the others."""
    return partners[0] if i % 2 == 0 else partners[1 + (i // 2) % (len(partners) - 1)]


def _mode(i: int) -> str:
    """A tenth of each partner's rows are made with a test key."""
    return "test" if (i // 2) % 10 == 9 else "live"


def _connections(partners: list[str], slugs: list[str], count: int) -> Iterator[dict]:
    when = _spread(count)
    statuses = ["active"] * 7 + ["invalid", "revoked", "pending"]
    for i in range(count):
        yield {
            "id": _new_id("conn"),
            "partner_id": _partner(partners, i),
            "system_id": slugs[i % len(slugs)],
            "method": "api_key",
            "mode": _mode(i),
            "end_user_id": f"user-{i}",
            "status": statuses[i % len(statuses)],
            "created_at": when(i),
            "updated_at": when(i),
        }


def _sessions(partners: list[str], slugs: list[str], count: int) -> Iterator[dict]:
    when = _spread(count)
    for i in range(count):
        created = when(i)
        chose = i % 4 != 0
        yield {
            "id": _new_id("ls"),
            "partner_id": _partner(partners, i),
            "token_digest": hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
            "end_user_id": f"user-{i}",
            "mode": _mode(i),
            "created_at": created,
            "expires_at": created + timedelta(minutes=30),
            "opened_at": created,
            "system_chosen": slugs[i % len(slugs)] if chose else "",
            "validated_at": created + timedelta(minutes=3) if chose and i % 3 else None,
            "last_screen": "/done/",
        }


def _attempts(sessions: list[str], slugs: list[str]) -> Iterator[dict]:
    """One per link session; a fifth failed, with a code."""
    when = _spread(len(sessions))
    codes = ["invalid_credentials", "forbidden", "timeout", "dns", "tls"]
    for i, session_id in enumerate(sessions):
        failed = i % 5 == 0
        yield {
            "id": _new_id("va"),
            "link_session_id": session_id,
            "system_slug": slugs[i % len(slugs)],
            "method": "api_key",
            "status": "failed" if failed else "succeeded",
            "error_code": codes[(i // 5) % len(codes)] if failed else "",
            "created_at": when(i),
            "finished_at": when(i),
            "runs": 1,
        }


def _endpoints(partners: list[str]) -> dict[str, str]:
    """One endpoint per partner; endpoint id by partner."""
    from connections.models import WebhookEndpoint
    from connections.security import crypto

    rows = [WebhookEndpoint(partner_id=p, url=f"https://hooks.bench.test/{p}") for p in partners]
    for row in rows:
        row.secret = crypto.encrypt(b"whsec_bench", aad=crypto.associated_data(row, "secret"))
    WebhookEndpoint.objects.bulk_create(rows)
    return {row.partner_id: row.pk for row in rows}


def _events(
    partners: list[str], connections: list[str], sessions: list[str], count: int
) -> Iterator[dict]:
    from connections.events import EventKind

    kinds = list(EventKind)
    when = _spread(count)
    for i in range(count):
        yield {
            "id": _new_id("evt"),
            "partner_id": _partner(partners, i),
            "kind": kinds[i % len(kinds)].value,
            "actor": "bench",
            "connection_id": connections[i % len(connections)] if i % 3 else None,
            "link_session_id": sessions[i % len(sessions)] if i % 3 == 0 else None,
            "created_at": when(i),
        }


def _deliveries(
    partners: list[str], endpoints: dict[str, str], events: list[str]
) -> Iterator[dict]:
    """One per event, to the endpoint of the event's partner: most delivered, some failing."""
    when = _spread(len(events))
    for i, event_id in enumerate(events):
        created = when(i)
        ok = i % 20 != 0
        yield {
            "id": _new_id("msg"),
            "endpoint_id": endpoints[_partner(partners, i)],
            "event_id": event_id,
            "status": "succeeded" if ok else "failed",
            "attempts": 1 if ok else 8,
            "next_attempt_at": created,
            "last_status_code": 200 if ok else 500,
            "last_duration_ms": 40,
            "created_at": created,
            "delivered_at": created if ok else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100k/100k/1M/1M")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    with scale_database(keep=options.keep, reuse=False) as name:
        seed(options.scale)
        print(f"database: {name}" + ("" if options.keep else " (dropped)"))


if __name__ == "__main__":
    main()
