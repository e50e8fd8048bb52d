"""The suite never hangs: every test has a hard time limit that fails it by name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, TIME_LIMITS

HANGING_TEST = """
import threading

def test_that_hangs():
    threading.Event().wait()  # as a browser call waiting for a frame that is gone
"""


def test_every_test_has_a_time_limit(request):
    assert float(request.config.getini("timeout")) > 0  # the default for unit tests
    for item in request.session.items:
        kinds = [kind for kind in TIME_LIMITS if item.get_closest_marker(kind)]
        if kinds:
            assert item.get_closest_marker("timeout"), item.nodeid


@pytest.mark.slow
def test_a_hanging_test_fails_fast_with_its_name(tmp_path):
    (tmp_path / "test_hang.py").write_text(HANGING_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-p", "no:django", "-o", "timeout=2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "Timeout" in result.stdout and "test_that_hangs" in result.stdout
