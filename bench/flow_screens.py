"""Benchmark the end user's flow screens on gunicorn against a bare one-SELECT Django view, and
print a table: each screen's p50/p95 at 1 and at 50 concurrent users, its p95 as a ratio of
the bare view's taken beside it, and the SQL it makes.

    .venv/bin/python bench/flow_screens.py [--seconds 4] [--pool 1500]

Needs PostgreSQL and ``wrk`` (``apt-get install -y wrk``). Every request is an end user's
first visit of that screen, as the flow reaches it: each comes from a link session of its own
(``--pool`` sessions per screen for 50 users, a quarter of that for one; the table says when
a run used them all and went round again). Sessions are seeded in the state the flow leaves
them in before the screen: opened (language fixed) for the screens after the first, a check
running for the progress screen, and a real validation against the Sandbox ERP for the done
screen. Whole pages, as a reload or a resumed link loads them (htmx's partials are smaller).
The bare view is measured beside each screen, so a busy machine weighs on both: one user
alternates between them request by request; 50 users (``wrk``) load the bare view just
before and just after the screen.
Targets (issue 17): p95 ≤ 5x the bare view's at c=1 and c=50; ≤ 4 SQL per screen.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from api_throughput import gunicorn
from common import percentile, throwaway_database
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

TARGET_RATIO = 5.0
TARGET_SQL = 4
CONCURRENCY = (1, 50)
PORT = 8767
BARE = ["/bench/bare-select/"]
LUA = """
paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[((counter - 1) % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d\\n", latency:percentile(50), latency:percentile(95),
    summary.requests))
end
"""


@dataclass(frozen=True)
class Screen:
    name: str
    path: str  # after /connect/<link token>/ ("{attempt}": the session's running check)
    state: str  # what the session has been through: fresh, opened, checking, validated


SCREENS = [
    Screen("choose", "", "fresh"),
    Screen("system", "s/sandbox-erp/", "opened"),
    Screen("prepare (guide)", "s/infoplus/api_key/", "opened"),
    Screen("details", "s/infoplus/api_key/details/", "opened"),
    Screen("progress", "attempts/{attempt}/", "checking"),
    Screen("done", "done/", "validated"),
]


@dataclass
class Result:
    p50: float
    p95: float
    requests: int


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--pool", type=int, default=1500, help="sessions per screen and run")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        print("skipped: install wrk (apt-get install -y wrk)")
        return
    logging.getLogger("connections.outbound.client").setLevel(logging.WARNING)
    with throwaway_database() as vendor:
        if vendor != "postgresql":
            print("skipped: needs PostgreSQL (gunicorn shares the database)")
            return
        run(options.seconds, options.pool)


def run(seconds: int, pool: int) -> None:
    from catalog.sync import catalog_sync
    from connections.services.partners import partner_create
    from tests.factories import practice_sign_in

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=[], actor="bench")
    practice_sign_in(partner)  # the Sandbox offers two methods: its system screen shows both
    sql = {screen.name: queries_of(partner, screen) for screen in SCREENS}
    paths = {
        (screen.name, users): seed(partner, screen, pool if users > 1 else pool // 4)
        for screen in SCREENS
        for users in CONCURRENCY
    }
    os.environ["ONRAMP_ATTEMPT_TIMEOUT"] = str(24 * 3600)  # seeded checks stay running
    server = gunicorn(connection.settings_dict["NAME"], PORT, "")
    try:
        warm_up([found[0] for found in paths.values()])
        results = {key: measure(found, key[1], seconds) for key, found in paths.items()}
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(results, sql, {key: len(found) for key, found in paths.items()})


def measure(paths: list[str], users: int, seconds: int) -> tuple[Result, Result]:
    """A screen's latencies and the bare view's, taken side by side so that both see the
    same machine: one user alternates between them request by request; 50 users load the
    bare view just before and just after the screen (its figures: their mean)."""
    if users == 1:
        return alternate(paths)
    before = load(BARE, users, seconds)
    screen = load(paths, users, seconds)
    after = load(BARE, users, seconds)
    bare = Result(*((getattr(before, f) + getattr(after, f)) / 2 for f in ("p50", "p95")), 0)
    return screen, bare


def alternate(paths: list[str]) -> tuple[Result, Result]:
    """One user, keep-alive: the bare view, then the screen, and so on, once per path."""
    client = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    screen, bare = [], []
    for path in paths:
        bare.append(timed_get(client, BARE[0], {"X-Digest": "none"}))
        screen.append(timed_get(client, path, {}))
    client.close()
    return _result(screen), _result(bare)


def timed_get(client: http.client.HTTPConnection, path: str, headers: dict) -> float:
    started = time.perf_counter()
    client.request("GET", path, headers=headers)
    response = client.getresponse()
    response.read()
    assert response.status in (200, 302), (path, response.status)
    return (time.perf_counter() - started) * 1000


def _result(samples: list[float]) -> Result:
    return Result(percentile(samples, 0.5), percentile(samples, 0.95), len(samples))


def seed(partner: object, screen: Screen, count: int) -> list[str]:
    """``count`` link sessions in the state ``screen`` is reached in; their URLs."""
    if screen.state == "validated":
        return [validated_path(partner) + screen.path for _ in range(count)]
    sessions = fresh_sessions(partner, count, opened=screen.state != "fresh")
    attempts = running_attempts([s for s, _ in sessions]) if screen.state == "checking" else {}
    return [
        f"/connect/{token}/" + screen.path.format(attempt=attempts.get(session.pk, ""))
        for session, token in sessions
    ]


def fresh_sessions(partner: object, count: int, *, opened: bool) -> list[tuple[object, str]]:
    from connections.models import LinkSession
    from connections.security import tokens
    from connections.security.tokens import TokenKind

    now = timezone.now()
    made = []
    for n in range(count):
        minted = tokens.mint(TokenKind.LINK)
        session = LinkSession(
            partner=partner,
            token_digest=minted.digest,
            end_user_id=f"bench-{n}",
            expires_at=now + timedelta(days=1),
            locale="en" if opened else "",
            opened_at=now if opened else None,
        )
        made.append((session, minted.value))
    LinkSession.objects.bulk_create([session for session, _ in made], batch_size=500)
    return made


def running_attempts(sessions: list) -> dict[str, str]:
    from connections.models import AttemptStatus, ValidationAttempt

    rows = [
        ValidationAttempt(
            link_session=session,
            system_slug="infoplus",
            method="api_key",
            config={"site": "acme"},
            status=AttemptStatus.RUNNING,
            steps={"reach": "done", "authenticate": "pending"},
            claimed_by="bench",
            claimed_until=timezone.now() + timedelta(hours=1),
        )
        for session in sessions
    ]
    ValidationAttempt.objects.bulk_create(rows, batch_size=500)
    return {row.link_session_id: row.pk for row in rows}


_sandbox: list[str] = []


def validated_path(partner: object) -> str:
    """A link session whose details passed a real check against the Sandbox ERP (the path
    the flow takes, whatever the settle records), as ``/connect/<token>/``."""
    from django.conf import settings
    from validation import serve_sandbox

    from connections.models import ValidationAttempt
    from connections.security import crypto
    from connections.services.attempts import attempt_run
    from tests.factories import link_session

    if not _sandbox:
        _sandbox.append(serve_sandbox())
        settings.ONRAMP_OUTBOUND_HOST_MAP = f"*.sandbox-erp.test={_sandbox[0]}"
    session, token = link_session(partner, locale="en")
    attempt = ValidationAttempt(
        link_session=session,
        system_slug="sandbox-erp",
        method="password",
        config={"company": "demo", "username": "demo"},
    )
    attempt.credentials = crypto.seal(
        {"password": "sandbox-demo"}, aad=crypto.associated_data(attempt, "credentials")
    )
    attempt.save()
    attempt_run(attempt_id=attempt.id, run_id="bench")
    return f"/connect/{token}/"


def queries_of(partner: object, screen: Screen) -> int:
    """SQL of one first visit of ``screen``, in this process (after a visit that warms it)."""
    counts = []
    for _ in range(2):
        (path,) = seed(partner, screen, 1)
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(path)
        assert response.status_code == 200, (screen.name, response.status_code)
        counts.append(len(queries))
    return counts[-1]


def warm_up(paths: list[str]) -> None:
    """A few requests per screen, spread over the workers (each builds its catalog index)."""
    for path in paths:
        load([path], 2, 1)


def load(paths: list[str], users: int, seconds: int) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        script, listing = Path(folder, "paths.lua"), Path(folder, "paths.txt")
        script.write_text(LUA)
        listing.write_text("\n".join(paths) + "\n")
        command = ["wrk", "-t1", f"-c{users}", f"-d{seconds}s", "-s", str(script)]
        command += ["-H", "X-Digest: none", f"http://127.0.0.1:{PORT}"]
        output = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            env={"WRK_PATHS": str(listing), "PATH": "/usr/bin:/bin"},
        ).stdout
    p50, p95, count = re.search(r"RESULT (\d+) (\d+) (\d+)", output).groups()
    return Result(int(p50) / 1000, int(p95) / 1000, int(count))


def report(
    results: dict[tuple[str, int], tuple[Result, Result]],
    sql: dict[str, int],
    pools: dict[tuple[str, int], int],
) -> None:
    print("gunicorn (2 workers, threads as configured), PostgreSQL, whole pages, first visits")
    print("each screen beside the bare view (one indexed SELECT) in the same minute\n")
    header = f"{'screen':<17}{'SQL':>4}"
    for users in CONCURRENCY:
        header += f"{f'c={users} p50':>11}{'p95 ms':>8}{'bare p95':>9}{'x bare':>8}"
    print(header + "  ok")
    for screen in SCREENS:
        line, ok = f"{screen.name:<17}{sql[screen.name]:>4}", sql[screen.name] <= TARGET_SQL
        for users in CONCURRENCY:
            result, bare = results[(screen.name, users)]
            ratio = result.p95 / bare.p95
            ok = ok and ratio <= TARGET_RATIO
            again = "*" if result.requests > pools[(screen.name, users)] else " "
            line += f"{result.p50:>11.2f}{result.p95:>8.2f}{bare.p95:>9.2f}{ratio:>7.1f}{again}"
        print(line + f"  {'yes' if ok else 'NO'}")
    print(
        f"\ntargets: p95 ≤ {TARGET_RATIO:.0f}x the bare view's at each concurrency; "
        f"≤ {TARGET_SQL} SQL per screen"
    )
    print("* more requests than sessions seeded: the rest were second visits")


if __name__ == "__main__":
    main()
