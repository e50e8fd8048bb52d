"""Shared fixtures: partners, an API client, an end user in the flow (``tests/end_user.py``),
an operator in the admin, local simulators, the production path as processes, a real Celery
worker; and what fuzz tests share."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from catalog.sync import catalog_sync
from config.celery import app as celery_app
from connections.models import Partner
from connections.services.partners import partner_create
from tests.end_user import EndUser
from tests.factories import link_session
from tests.fakes import RunningFakes
from tests.stack import TIMEOUT, open_stack, wait_for_worker

ROOT = Path(__file__).resolve().parent.parent

# Hard limits per kind of test, in seconds (pytest-timeout; anything else gets the ini's 120).
# Generous: on a busy 2-core machine a stack test starts several processes.
TIME_LIMITS = {"browser": 240, "slow": 300}
# Tests that use these fixtures start real processes: they are slow whatever their module says.
PROCESS_FIXTURES = {"stack", "celery_worker"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        limits = [limit for kind, limit in TIME_LIMITS.items() if item.get_closest_marker(kind)]
        if limits and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(max(limits)))


# Fuzz tests: whatever a partner or an end user sends, the answer is never a 500.
FUZZ = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    _clear_own_cache()
    yield
    _clear_own_cache()


def _clear_own_cache() -> None:
    """Only this run's keys: Redis's FLUSHDB would also empty the broker's queues and another
    run's cache."""
    if not django_settings.USING_REDIS:
        for alias in django_settings.CACHES:
            caches[alias].clear()
        return
    client = cache._cache.get_client(write=True)
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    if keys := list(client.scan_iter(match=f"{prefix}:*", count=1000)):
        client.delete(*keys)


@pytest.fixture
def rate_clock(monkeypatch: pytest.MonkeyPatch):
    """The rate limiters' clock, to move on to the next window: ``rate_clock(61)``."""
    now = [time.time()]
    monkeypatch.setattr("connections.security.ratelimit._now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


@pytest.fixture
def catalog(db: Any) -> None:
    catalog_sync()


@dataclass
class PartnerWithKey:
    partner: Partner
    secret: str

    def client(self) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.secret}"})


@pytest.fixture
def acme(catalog: None) -> PartnerWithKey:
    partner, secret = partner_create(name="Acme", origins=["https://app.acme.test"], actor="test")
    return PartnerWithKey(partner, secret)


@pytest.fixture
def api(acme: PartnerWithKey) -> Client:
    return acme.client()


def post(client: Client, path: str, body: object = None, **kwargs: Any) -> HttpResponse:
    """POST JSON to the partner API (``path`` after ``/api/v1``)."""
    return client.post(
        f"/api/v1{path}",
        body if body is not None else {},
        content_type="application/json",
        **kwargs,
    )


def error_of(response: HttpResponse) -> dict[str, Any]:
    """The API's error, after checking it has the one shape every error has."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


def bearer(token: str) -> Client:
    """A client presenting ``token`` (a partner key or a connection's access token)."""
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def end_user(
    acme: PartnerWithKey, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[..., EndUser]:
    """Open a new link of Acme's in a fresh browser: ``end_user()``, or with the link
    session's spec, ``end_user(locale="de", redirect_url=...)``."""

    def open_link(**spec: Any) -> EndUser:
        session, token = link_session(acme.partner, **spec)
        return EndUser(session, token, django_capture_on_commit_callbacks)

    return open_link


@pytest.fixture
def operator(db: Any, django_user_model: Any) -> Callable[..., Client]:
    """Sign an operator in to the admin, in a browser of their own: ``operator()`` may do
    everything (the superuser ``admin``, as events name it: ``admin:admin``);
    ``operator(permissions=["view_linksession"])`` is staff with only those permissions
    (``[]``: none at all)."""
    staff = itertools.count(1)

    def signed_in(*, permissions: Iterable[str] | None = None) -> Client:
        if permissions is None:
            user = django_user_model.objects.filter(username="admin").first()
            user = user or django_user_model.objects.create_superuser("admin", "admin@x.test")
        else:
            user = django_user_model.objects.create_user(f"staff-{next(staff)}", is_staff=True)
            user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
        client = Client()
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture(scope="session")
def fakes() -> Iterator[RunningFakes]:
    running = RunningFakes()
    yield running
    running.stop()


@pytest.fixture
def fake_systems(fakes: RunningFakes, settings: Any) -> Iterator[RunningFakes]:
    """The simulators, reachable through the host map, with fresh state."""
    fakes.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = fakes.host_map()
    yield fakes


@pytest.fixture
def instances(fake_systems: RunningFakes) -> RunningFakes:
    """The simulators of systems at the customer's own address (``tests/fakes/instances.py``),
    each with a user who may read and one who may not."""
    fake_systems.odoo.keys["key-1"] = ("acme", True)
    fake_systems.odoo.keys["key-ro"] = ("acme", False)
    fake_systems.erpnext.users["k1"] = ("s1", "integration@acme.test", True)
    fake_systems.erpnext.users["k2"] = ("s2", "intern@acme.test", False)
    fake_systems.sap_b1.users[("SBOACME", "api")] = ("pw", True)
    fake_systems.sap_b1.users[("SBOACME", "viewer")] = ("pw", False)
    return fake_systems


@pytest.fixture
def onramp_server(live_server: Any, settings: Any, fakes: RunningFakes) -> str:
    """The app on a real port: link URLs point at it, the Sandbox ERP is reached through it."""
    settings.ONRAMP_PUBLIC_URL = live_server.url
    settings.ONRAMP_OUTBOUND_HOST_MAP = (
        f"*.{settings.ONRAMP_SANDBOX_DOMAIN}={live_server.url}," + fakes.host_map()
    )
    return live_server.url


SESSION_WORKER = f"session-{django_settings.CHECKOUT}@localhost"


def _worker_available() -> bool:
    return bool(django_settings.USING_POSTGRES and django_settings.USING_REDIS)


@pytest.fixture(scope="session")
def _celery_worker_process(
    django_db_setup: Any, django_db_blocker: Any, live_server: Any, fakes: RunningFakes
) -> Iterator[subprocess.Popen | None]:
    if not _worker_available():
        yield None
        return
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "ONRAMP_TEST_HOST_MAP": f"*.sandbox-erp.test={live_server.url},{fakes.host_map()}",
        "ONRAMP_PUBLIC_URL": live_server.url,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            *("-n", SESSION_WORKER),
        ],
        cwd=ROOT,
        env=env,
    )
    wait_for_worker(worker, SESSION_WORKER)
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


@pytest.fixture
def stack(live_server: Any, fakes: RunningFakes, settings: Any, tmp_path: Path) -> Iterator[Any]:
    """Workers, beat and gunicorn as real processes on a private queue (PostgreSQL + Redis)."""
    if not _worker_available():
        pytest.skip("fault tests need PostgreSQL and Redis")
    from django.db import connection

    host_map = f"*.sandbox-erp.test={live_server.url},{fakes.host_map()}"
    settings.ONRAMP_OUTBOUND_HOST_MAP = host_map
    base_env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "ONRAMP_TEST_HOST_MAP": host_map,
        "ONRAMP_PUBLIC_URL": live_server.url,
    }
    yield from open_stack(base_env=base_env, tmp=tmp_path)


@pytest.fixture
def faults(stack: Any, fake_systems: RunningFakes, settings: Any) -> Any:
    """The stack for fault tests: attempts time out after ``TIMEOUT`` here as in its processes
    (given ``FAST``), and Infoplus takes the key ``key-1`` of site ``acme``."""
    settings.ONRAMP_ATTEMPT_TIMEOUT = TIMEOUT
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    return stack


@pytest.fixture
def celery_worker(_celery_worker_process: subprocess.Popen | None) -> Iterator[bool]:
    """A real worker (PostgreSQL + Redis available) or inline tasks. Yields True if real."""
    if _celery_worker_process is None:
        yield False
        return
    celery_app.conf.task_always_eager = False
    yield True
    celery_app.conf.task_always_eager = True
