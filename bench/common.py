"""What the benchmarks share: Django on the test settings, a throwaway database, timing."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh test database (PostgreSQL when it answers, as in the test suite)."""
    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        yield connection.vendor
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)


def timed(call: Callable[[], object], count: int) -> list[float]:
    """Milliseconds per call."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
