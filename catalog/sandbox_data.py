"""The Sandbox ERP's records: vendors, items and purchase orders of the demo company, made up the
same way on every start (a seeded generator), with modified times over the last 120 days.

What a real ERP's listing does, the Sandbox does: keyset cursors over (modified time, id),
a ``modified_after`` filter, deleted purchase orders kept as tombstones, deleted vendors as a
status, and a rate limit (429 with ``Retry-After``) that a test or a demo can switch on with
``throttle``. Tests change the records through ``records()`` and start afresh with ``reset()``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

HISTORY_DAYS = 120
PURCHASE_ORDERS = 240
ITEM_COUNT = 60
WAREHOUSES = ("MAN", "LDS")
STATES = ("OPEN", "OPEN", "PARTIAL", "RECEIVED", "CLOSED", "CANCELLED")
VENDOR_NAMES = (
    "Acme Fasteners",
    "Northwind Metals",
    "Contoso Plastics",
    "Globex Packaging",
    "Initech Electronics",
    "Umbrella Chemicals",
    "Stark Bearings",
    "Wayne Steel",
    "Hooli Components",
    "Vandelay Industries",
    "Wonka Adhesives",
    "Tyrell Motors",
)
ITEMS = (
    ("BOLT-M8", "Hex bolt M8x40, zinc", "EA", "0.18"),
    ("NUT-M8", "Hex nut M8, zinc", "EA", "0.05"),
    ("SHEET-2MM", "Steel sheet 2 mm, 1x2 m", "SHT", "48.50"),
    ("PELLET-PP", "Polypropylene pellets", "KG", "1.92"),
    ("BOX-40", "Corrugated box 40x30x30", "EA", "0.74"),
    ("PCB-CTRL", "Controller board rev. C", "EA", "23.10"),
    ("BRG-6204", "Ball bearing 6204-2RS", "EA", "3.35"),
    ("GLUE-5L", "Industrial adhesive, 5 l", "CAN", "37.00"),
)


@dataclass
class Records:
    vendors: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    purchase_orders: list[dict[str, Any]] = field(default_factory=list)
    # The next this many listing requests answer 429, asking to wait ``retry_after`` seconds.
    throttle: int = 0
    retry_after: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)


_records = Records()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reset(now: datetime | None = None, purchase_orders: int = PURCHASE_ORDERS) -> Records:
    """Make the demo company's records afresh, modified over the ``HISTORY_DAYS`` to ``now``
    (``purchase_orders`` of them: more for the bench)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(1001)  # noqa: S311 — made-up data, the same on every start
    vendors = [_vendor(i, name, now, rng) for i, name in enumerate(VENDOR_NAMES, 1)]
    orders = [_purchase_order(i, vendors, now, rng) for i in range(1, purchase_orders + 1)]
    _records.vendors[:] = vendors
    _records.items[:] = [_item(n, now, rng) for n in range(1, ITEM_COUNT + 1)]
    _records.purchase_orders[:] = orders
    _records.throttle, _records.retry_after = 0, 1
    return _records


def records() -> Records:
    if not _records.purchase_orders:
        reset()
    return _records


def touch(record: dict[str, Any], **changes: Any) -> None:
    """Change a record as a user of the ERP would: its modified time moves to now."""
    record.update(changes, updated_at=iso(datetime.now(UTC)))


def throttled() -> int | None:
    """Seconds to wait when this request is one the rate limit refuses, else None."""
    with _records.lock:
        if _records.throttle <= 0:
            return None
        _records.throttle -= 1
        return _records.retry_after


def _vendor(number: int, name: str, now: datetime, rng: random.Random) -> dict[str, Any]:
    slug = name.split()[0].lower()
    return {
        "id": f"V{number:04d}",
        "name": name,
        "email": f"orders@{slug}.example",
        "phone": f"+44 20 7946 {number:04d}",
        "currency": "EUR" if number % 3 else "GBP",
        "terms": rng.choice(("NET30", "NET45", "NET60")),
        "tax_id": f"GB{rng.randrange(10**8, 10**9)}",
        "status": "active",
        "address": {"line1": f"{number} Industrial Way", "city": "Leeds", "country": "GB"},
        "updated_at": iso(now - timedelta(days=rng.uniform(0, HISTORY_DAYS))),
    }


def _purchase_order(
    number: int, vendors: list[dict[str, Any]], now: datetime, rng: random.Random
) -> dict[str, Any]:
    vendor = rng.choice(vendors)
    ordered = now - timedelta(days=rng.uniform(0, HISTORY_DAYS))
    lines = [_line(n, ordered, rng) for n in range(1, rng.randint(1, 5) + 1)]
    return {
        "id": f"po_{number:05d}",
        "number": f"PO-{10000 + number}",
        "vendor": {"id": vendor["id"], "name": vendor["name"]},
        "state": rng.choice(STATES),
        "currency": vendor["currency"],
        "ordered_on": ordered.date().isoformat(),
        "required_by": (ordered + timedelta(days=rng.randint(7, 30))).date().isoformat(),
        "ship_to": {"line1": "1 Factory Road", "city": "Manchester", "country": "GB"},
        "bill_to": {"line1": "1 Factory Road", "city": "Manchester", "country": "GB"},
        "terms": vendor["terms"],
        "total": str(sum(Decimal(line["amount"]) for line in lines)),
        "custom": {"buyer": rng.choice(("J. Smith", "A. Patel", "M. Rossi"))},
        "lines": lines,
        "deleted": False,
        "updated_at": iso(min(now, ordered + timedelta(hours=rng.uniform(0, 48)))),
    }


def _item(number: int, now: datetime, rng: random.Random) -> dict[str, Any]:
    sku, description, uom, cost = ITEMS[(number - 1) % len(ITEMS)]
    stock = []
    for warehouse in WAREHOUSES:
        on_hand, allocated = rng.randint(0, 2000), rng.randint(0, 200)
        stock.append(
            {
                "warehouse": warehouse,
                "on_hand": on_hand,
                "allocated": allocated,
                "available": max(on_hand - allocated, 0),
                "on_order": rng.choice((0, 0, 250, 500)),
            }
        )
    return {
        "sku": sku if number <= len(ITEMS) else f"{sku}-{number:03d}",
        "name": description,
        "uom": uom,
        "unit_cost": cost,
        "list_price": str((Decimal(cost) * Decimal("1.4")).quantize(Decimal("0.01"))),
        "barcode": f"50{rng.randrange(10**10, 10**11)}",
        "status": "discontinued" if number % 15 == 0 else "active",
        "stock": stock,
        "updated_at": iso(now - timedelta(days=rng.uniform(0, HISTORY_DAYS))),
    }


def _line(number: int, ordered: datetime, rng: random.Random) -> dict[str, Any]:
    sku, description, uom, price = rng.choice(ITEMS)
    quantity = rng.randint(1, 500)
    return {
        "line": number,
        "sku": sku,
        "description": description,
        "qty": quantity,
        "uom": uom,
        "unit_price": price,
        "amount": str(Decimal(price) * quantity),
        "due": (ordered + timedelta(days=rng.randint(7, 30))).date().isoformat(),
    }
