"""What catalog search costs a web process (``bench/catalog_search.py`` prints it): the SQL of
one keystroke, and gunicorn workers' memory while an operator's switch rebuilds the index.

The bench process plays the operator and the worker (tasks run in line): it pins a different
system each round and calls ``catalog_changed()`` as the admin does, which builds, stores and
announces the index. The gunicorn workers (``bench/settings.py``: rebuilt behind, as in
production) keep answering searches; the round ends when every answer shows the new pin.
"""

from __future__ import annotations

import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from api_throughput import gunicorn
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

PORT = 8767
HTMX = {"HX-Request": "true", "HX-Target": "results"}
FIRST_CARD = re.compile(r'class="system-card" href="[^"]*/s/([a-z0-9-]+)/"')
CAUGHT_UP = 24  # answers in a row showing the change: both workers have loaded it


def keystroke_queries() -> tuple[int, int]:
    """SQL statements and writes of one keystroke on a warm choose screen."""
    client, base = Client(), _flow_base()
    client.get(base)  # the link opened; the index loaded
    client.get(base + "systems/?q=net", headers=HTMX)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(base + "systems/?q=nets", headers=HTMX).status_code == 200
    statements = [query["sql"].split(None, 1)[0] for query in captured.captured_queries]
    return len(statements), sum(verb in ("INSERT", "UPDATE", "DELETE") for verb in statements)


def memory_across_rebuilds(size: int, rebuilds: int) -> None:
    from catalog.models import System
    from catalog.search import catalog_changed

    server = gunicorn(connection.settings_dict["NAME"], PORT, "")
    url = f"http://127.0.0.1:{PORT}{_flow_base()}systems/?q="
    try:
        workers = _children(server.pid)
        started = [_rss_mb(pid) for pid in workers]
        _answers(url, 400, at_once=8)  # each worker loads the index and warms its threads
        print(f"\nweb workers at {size} systems (gunicorn, 2 workers), {rebuilds} rebuilds:")
        print(f"{'':>10}{'build ms':>10}{'caught up s':>13}{'slowest ms':>12}  RSS per worker MB")
        print(f"{'started':>10}{'':>35}  {_mb(started)}")
        print(f"{'loaded':>10}{'':>35}  {_mb([_rss_mb(pid) for pid in workers])}")
        previous = ""
        for round_ in range(1, rebuilds + 1):
            pinned = f"synthetic-{round_}"
            begun = time.perf_counter()
            System.objects.filter(slug=previous).update(pinned=False)
            System.objects.filter(slug=pinned).update(pinned=True)
            catalog_changed()
            built = time.perf_counter()
            slowest = _until_shown(url, pinned)
            caught_up = time.perf_counter() - built
            build_ms = (built - begun) * 1000
            rss = _mb([_rss_mb(pid) for pid in workers])
            print(f"{round_:>10}{build_ms:>10.0f}{caught_up:>13.1f}{slowest:>12.0f}  {rss}")
            previous = pinned
    finally:
        server.terminate()
        server.wait(timeout=20)


def _until_shown(url: str, pinned: str) -> float:
    """Search until ``CAUGHT_UP`` answers in a row show ``pinned`` first; the slowest (ms)."""
    slowest, in_a_row, deadline = 0.0, 0, time.monotonic() + 300
    while in_a_row < CAUGHT_UP and time.monotonic() < deadline:
        for first, took in _answers(url, 8):
            slowest = max(slowest, took)
            in_a_row = in_a_row + 1 if first == pinned else 0
    return slowest


def _answers(url: str, count: int, at_once: int = 4) -> list[tuple[str, float]]:
    """``count`` searches, ``at_once`` at a time: each answer's first system and time (ms)."""
    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(lambda _: _search(url), range(count)))


def _search(url: str) -> tuple[str, float]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers=HTMX)
    with urllib.request.urlopen(request, timeout=120) as response:
        page = response.read().decode()
    found = FIRST_CARD.search(page)
    return (found.group(1) if found else ""), (time.perf_counter() - started) * 1000


def _flow_base() -> str:
    from connections.services.partners import partner_create
    from tests.factories import link_session

    partner, _ = partner_create(name="Bench catalog", origins=[], actor="bench")
    _, link_token = link_session(partner)
    return f"/connect/{link_token}/"


def _children(pid: int) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(found) >= 2:
            return [int(child) for child in found]
        time.sleep(0.5)
    raise RuntimeError("gunicorn started no workers")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _mb(values: list[float]) -> str:
    return "  ".join(f"{value:7.1f}" for value in values)
