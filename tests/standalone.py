"""Onramp as someone installs it: its own environment (none of the suite's settings, database,
broker or keys), ``manage.py`` commands and a web server in subprocesses.

The fault tests' stack (``tests/stack.py``) shares the suite's database and broker; these
processes share nothing with the suite but the code.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# What the suite puts in the environment (tests/settings.py), never meant for these processes.
SUITE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG")


def own_env(**values: str) -> dict[str, str]:
    """The environment without the suite's variables (and no ``ONRAMP_*`` at all), plus
    ``values``: what an operator's shell would hold."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in SUITE_VARIABLES and not name.startswith(("ONRAMP_", "DJANGO_"))
    }
    return kept | {"DJANGO_SETTINGS_MODULE": "config.settings"} | values


def manage(*args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 240) -> str:
    """Run ``python manage.py <args>``; its output, or an AssertionError with its errors."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(command: list[str], *, env: dict[str, str], cwd: Path, url: str) -> Iterator[str]:
    """Run a web server (``command``, after the Python executable) until the block ends;
    yields ``url`` once it answers."""
    server = subprocess.Popen([sys.executable, *command], cwd=cwd, env=env)
    try:
        wait_until_answering(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def wait_until_answering(url: str, server: subprocess.Popen, *, within: float = 120) -> None:
    """Until ``url`` answers at all, a redirect included (production sends plain http to
    https). Any request error means "not yet": a busy machine may take many seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited at start-up ({server.returncode})"
        try:
            requests.get(url, timeout=15, allow_redirects=False)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered within {within:.0f} s")
