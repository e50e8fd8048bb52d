"""Production settings (``config/settings.py``), in a process of their own: ``check --deploy``
is clean, a missing secret stops the start, and no sandbox or demo is served."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from connections.security import crypto
from tests.conftest import ROOT


def production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ONRAMP_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "onramp.example.com",
            "ONRAMP_ENCRYPTION_KEYS": crypto.new_key_spec("prod1"),
            "ONRAMP_DATA_DIR": os.environ["ONRAMP_DATA_DIR"],
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra,
        }
    )
    return env


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_production_refuses_to_start_without_its_secrets():
    env = production_env()
    del env["ONRAMP_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "ONRAMP_ENCRYPTION_KEYS" in result.stderr
    env = production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_production_serves_no_sandbox_or_demo():
    script = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "for path in ('/sandbox/api/v1/company', '/demo/'):\n"
        "    try:\n        resolve(path); print('served', path)\n"
        "    except Resolver404:\n        print('absent', path)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.stdout.split("\n")[:2] == ["absent /sandbox/api/v1/company", "absent /demo/"]
