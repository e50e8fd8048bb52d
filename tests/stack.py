"""The production path as separate processes, for fault tests: Celery workers (that a test
may SIGKILL), Celery beat, gunicorn. All share the test database and Redis.

A test gets a private queue, so the session's shared worker never takes its tasks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from celery import Celery

from config.celery import app as celery_app
from config.lanes import lane_queues

ROOT = Path(__file__).resolve().parent.parent
# What the fault tests' processes run with (the ``faults`` fixture sets the same in the test):
TIMEOUT = 12  # ONRAMP_ATTEMPT_TIMEOUT for these tests: a lease of 6 s (the 5 s deadline + 1)
FAST = {"ONRAMP_ATTEMPT_TIMEOUT": str(TIMEOUT), "ONRAMP_SWEEP_INTERVAL": "0.5"}


@dataclass
class Process:
    name: str
    popen: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL the main process: no shutdown, no acks, as a crash or the OOM killer."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Stack:
    env: dict[str, str]
    queue: str
    tmp: Path
    processes: list[Process] = field(default_factory=list)

    def worker(self, *, threads: int = 1, lanes: tuple[str, ...] = (), **env: str) -> Process:
        """A worker on every queue of the stack, or on the default queue (``""``) and the
        named lanes only (``config/lanes.py``)."""
        name = f"{self.queue}-{len(self.processes)}@localhost"
        queues = [f"{self.queue}-{lane}" if lane else self.queue for lane in lanes]
        process = self._start(
            name,
            [
                *(
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=threads",
                    "-c",
                    str(threads),
                    "-Q",
                    ",".join(queues or lane_queues(self.queue)),
                ),
                *("-n", name, "--loglevel=WARNING", "--without-gossip", "--without-mingle"),
            ],
            env,
        )
        wait_for_worker(process.popen, process.name, broker=env.get("CELERY_BROKER_URL"))
        return process

    def beat(self, **env: str) -> Process:
        schedule = self.tmp / f"beat-{uuid.uuid4().hex}"
        return self._start(
            "beat",
            ["-m", "celery", "-A", "config", "beat", "-s", str(schedule), "--loglevel=WARNING"],
            env,
        )

    def gunicorn(self, **env: str) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self._start(
            "gunicorn",
            [
                *("-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "2", "config.wsgi"),
            ],
            env,
        )
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/static/connect.js")
        return url

    def python(self, code: str, **env: str) -> Process:
        """``manage.py shell -c code``: a process of the stack that a test may kill."""
        return self._start("shell", ["manage.py", "shell", "-c", code], env)

    def purge(self) -> None:
        with celery_app.connection_for_write() as conn:
            for queue in lane_queues(self.queue):
                conn.default_channel.queue_purge(queue)

    def close(self) -> None:
        for process in self.processes:
            process.stop()

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**self.env, **env})
        process = Process(name, popen)
        self.processes.append(process)
        return process


def wait_for_worker(
    popen: subprocess.Popen, name: str, *, within: float = 120, broker: str | None = None
) -> None:
    """Until the Celery worker called ``name`` answers a ping (it has joined the broker: the
    suite's, or ``broker`` when the worker was given its own)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited at start-up")
        if (Celery(broker=broker, set_as_current=False) if broker else celery_app).control.ping(
            [name], timeout=1
        ):
            return
    raise RuntimeError(f"{name} did not answer within {within:.0f} s")


def wait_for(
    predicate: Callable[[], Any], timeout: float = 20.0, what: str = "the condition"
) -> Any:
    """Until ``predicate()`` is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def sign_ins(fake: Any) -> int:
    """How many requests a simulator received (each check signs in once)."""
    return len(fake.requests)


def wait_until_up(url: str, *, within: float = 120) -> None:
    """Until ``url`` answers at all. Any request error means "not yet": a server that has bound
    its port may still be starting, and a busy machine may take many seconds to answer."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=15)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered within {within:.0f} s")


def open_stack(*, base_env: dict[str, str], tmp: Path) -> Iterator[Stack]:
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **base_env, "ONRAMP_TASK_QUEUE": queue, "ONRAMP_TEST_INLINE_TASKS": "0"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    stack = Stack(env=env, queue=queue, tmp=tmp)
    previous = celery_app.conf.task_default_queue, celery_app.conf.task_always_eager
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = queue, False
    try:
        yield stack
    finally:
        stack.close()
        stack.purge()
        celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous
