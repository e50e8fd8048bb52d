"""Test settings: the production path (PostgreSQL, Redis) when those services answer,
the embedded default (SQLite, local memory) when they do not."""

import base64
import hashlib
import os
import secrets
import socket
import tempfile
from pathlib import Path

# Two checkouts may run their suites at once on one machine (a CI clone beside a working
# copy): each has its own test database, task queue and cache keys, so neither disturbs the
# other.
CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()[:8]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres"
if "REDIS_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


os.environ.setdefault("ONRAMP_ENCRYPTION_KEYS", f"{_key('test2')},{_key('test1')}")
os.environ.setdefault("ONRAMP_DATA_DIR", tempfile.mkdtemp(prefix="onramp-test-"))
os.environ.setdefault("ONRAMP_CACHE_PREFIX", f"onramp-test-{os.getpid()}")

from config.lanes import declared_queues  # noqa: E402
from config.settings import *  # noqa: E402, F403

# Unit tests run tasks inline; tests that need a real worker use the celery_worker fixture.
# Processes of the fault tests' stack (workers, beat, gunicorn) use the broker for real.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("ONRAMP_TEST_INLINE_TASKS", "1") == "1"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("ONRAMP_TASK_QUEUE") or f"tests-{CHECKOUT}"
CELERY_TASK_QUEUES = declared_queues(CELERY_TASK_DEFAULT_QUEUE)
DATABASES["default"]["TEST"] = {"NAME": f"test_onramp_{CHECKOUT}"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ONRAMP_OUTBOUND_HOST_MAP = os.environ.get("ONRAMP_TEST_HOST_MAP", "")
ONRAMP_OUTBOUND_CONNECT_TIMEOUT = 2.0
# Short, so tests of slow remotes are quick; a test of hanging calls sets its stack's own.
ONRAMP_OUTBOUND_READ_TIMEOUT = float(os.environ.get("ONRAMP_TEST_READ_TIMEOUT", "3.0"))
ONRAMP_OUTBOUND_DEADLINE = float(os.environ.get("ONRAMP_TEST_DEADLINE", "5.0"))
# Each test's catalog lives in its own transaction, which a rebuilding thread cannot see:
# tests rebuild in line (the test of the rebuild behind turns it back on).
ONRAMP_CATALOG_REBUILD_BEHIND = False
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")  # noqa: F405
USING_REDIS = bool(REDIS_URL)  # noqa: F405

# Partner pages in tests are served on http://127.0.0.1 (production refuses plain http).
ONRAMP_ALLOW_HTTP_LOCALHOST = True
# As in production; the tests of local webhook endpoints turn it on.
ONRAMP_ALLOW_LOCAL_WEBHOOKS = False

# Tests run with DEBUG off; serve static files (connect.js) from the finders.
STATIC_ROOT = os.path.join(os.environ["ONRAMP_DATA_DIR"], "static")
os.makedirs(STATIC_ROOT, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
