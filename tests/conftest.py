"""Shared fixtures: partners, an API client, an end user in the flow, an operator in the
admin, local simulators, a real Celery worker."""

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
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.test import Client

from catalog.sync import catalog_sync
from config.celery import app as celery_app
from connections.models import LinkSession, Partner
from connections.services.partners import partner_create
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


HTMX = {"HX-Request": "true"}


class EndUser:
    """An end user's browser in the flow, holding only the link's URL: the flow needs no
    cookies (an OAuth sign-in binds its browser with one, under /oauth/ only).

    Paths are the link's own (``"s/infoplus/"``), or absolute when they start with ``/``.
    """

    def __init__(self, session: LinkSession, token: str, capture: Callable[..., Any]) -> None:
        self.session, self.token = session, token
        self.base = f"/connect/{token}/"
        self.client = Client()
        self._capture = capture

    def get(self, path: str = "", *, htmx: bool = False, **kwargs: Any) -> HttpResponse:
        return self.client.get(self._url(path), **_htmx(htmx, kwargs))

    def post(
        self, path: str, data: Any = None, *, htmx: bool = False, **kwargs: Any
    ) -> HttpResponse:
        """Post; what it queues stays queued, as before a worker takes it."""
        return self.client.post(self._url(path), data, **_htmx(htmx, kwargs))

    def submit(self, path: str, data: Any, *, htmx: bool = False, **kwargs: Any) -> HttpResponse:
        """Post, then run what it queued (the live check) as a worker would."""
        with self._capture(execute=True):
            return self.post(path, data, htmx=htmx, **kwargs)

    def walk(self, path: str, data: dict[str, str]) -> list[str]:
        """Submit a form, follow where it leads, then open the form again: every page's HTML."""
        response = self.submit(path, data)
        pages = [response.content.decode()]
        for _ in range(3):
            if response.status_code not in (302, 303):
                break
            response = self.get(response["Location"])
            pages.append(response.content.decode())
        pages.append(self.get(path).content.decode())  # back to the form
        return pages

    def sign_in(self, system: str, **fields: str) -> HttpResponse:
        """Begin an OAuth sign-in (in a popup), then open its start URL in this browser: the
        answer sends it to the provider's consent page."""
        began = self.post(f"s/{system}/sign_in/sign-in/", {"in_popup": "1", **fields})
        if began.status_code != 302:
            return began
        return self.client.get(urlsplit(began["Location"]).path)

    def back_from_provider(self, redirect_url: str) -> HttpResponse:
        """The provider sends this browser back to the callback; the live check runs."""
        parts = urlsplit(redirect_url)
        with self._capture(execute=True):
            return self.client.get(f"{parts.path}?{parts.query}")

    def sign_in_status(self, system: str, closed: bool = False) -> HttpResponse:
        """What the flow's screen polls for while the sign-in window is open."""
        query = "?closed=1" if closed else ""
        return self.get(f"s/{system}/sign_in/sign-in/status/{query}", htmx=True)

    def _url(self, path: str) -> str:
        return path if path.startswith("/") else self.base + path


def _htmx(htmx: bool, kwargs: dict[str, Any]) -> dict[str, Any]:
    if htmx:
        kwargs["headers"] = HTMX | kwargs.get("headers", {})
    return kwargs


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
