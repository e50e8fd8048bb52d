"""Outages degrade instead of failing (SECURITY.md rule 14), on the production path: gunicorn
and workers using a Redis of the test's own (cache and broker, as the README deploys it),
which the test kills or pauses; and a database that cannot be reached."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
import requests

from connections.models import Connection
from tests.factories import connected, link_session

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
INFOPLUS = "infoplus-wms/api/v3.0/lineOfBusiness/search"
DETAILS = "s/infoplus/api_key/details/"


class PrivateRedis:
    """A redis-server on a free port that a test may kill, restart or pause."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(lambda: self._answers(), "redis to start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def pause(self, seconds: float) -> None:
        """Every client's commands wait (as in a network partition) for ``seconds``."""
        redis.Redis(port=self.port).execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False


def wait_for(predicate, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    if server.process and server.process.poll() is None:
        server.kill()


@pytest.fixture
def web(stack, private_redis, fake_systems) -> str:
    """gunicorn whose cache and broker are the private Redis."""
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    return stack.gunicorn(REDIS_URL=private_redis.url, CELERY_BROKER_URL=private_redis.url)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_with_redis_down_every_path_answers_and_a_revoke_still_revokes(web, private_redis, acme):
    connection, access_token = connected(acme.partner)
    _, other_token = connected(acme.partner, end_user_id="user-2")
    _, link_token = link_session(acme.partner)
    assert requests.get(f"{web}/api/v1/connection", headers=bearer(access_token)).ok
    private_redis.kill()

    first_screen = requests.get(f"{web}/connect/{link_token}/", timeout=60)
    assert first_screen.status_code == 200 and "Which system do you use?" in first_screen.text
    submitted = requests.post(
        f"{web}/connect/{link_token}/{DETAILS}",
        data={"site": "acme", "api_key": "key-1"},
        allow_redirects=False,
        timeout=60,
    )
    assert submitted.status_code == 303  # queued; the sweeper sends it when the broker is back
    introspected = requests.get(f"{web}/api/v1/connection", headers=bearer(access_token))
    assert introspected.status_code == 200 and introspected.json()["id"] == connection.id
    proxied = requests.get(f"{web}/api/v1/proxy/{INFOPLUS}", headers=bearer(other_token))
    assert proxied.status_code == 200 and proxied.json() == [{"id": 1, "name": "Main"}]
    revoked = requests.delete(
        f"{web}/api/v1/connections/{connection.id}", headers=bearer(acme.secret), timeout=60
    )
    assert revoked.status_code == 200
    refused = requests.get(f"{web}/api/v1/connection", headers=bearer(access_token))
    assert refused.status_code == 401
    assert Connection.objects.get(pk=connection.pk).token_cache_stale_since is not None


def test_a_revoke_during_a_partition_is_not_undone_by_the_cache_when_it_heals(
    stack, web, private_redis, acme
):
    connection, access_token = connected(acme.partner)
    introspect = lambda: requests.get(  # noqa: E731
        f"{web}/api/v1/connection", headers=bearer(access_token), timeout=60
    )
    assert introspect().ok and introspect().ok  # the second answer came from the cache
    private_redis.pause(4)
    revoked = requests.delete(
        f"{web}/api/v1/connections/{connection.id}", headers=bearer(acme.secret), timeout=60
    )
    assert revoked.status_code == 200
    env = {"REDIS_URL": private_redis.url, "CELERY_BROKER_URL": private_redis.url}
    env |= {"ONRAMP_SWEEP_INTERVAL": "0.5"}
    stack.beat(**env)
    stack.worker(**env)
    wait_for(
        lambda: Connection.objects.get(pk=connection.pk).token_cache_stale_since is None,
        "the sweeper to catch up",
    )
    time.sleep(6)  # every process's pause on Redis has lapsed: the cache is read again
    assert introspect().status_code == 401


def test_a_database_that_cannot_be_reached_is_a_clear_503(stack, acme):
    _, link_token = link_session(acme.partner)
    web = stack.gunicorn(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    api = requests.get(f"{web}/api/v1/connections", headers=bearer(acme.secret), timeout=60)
    assert api.status_code == 503 and api.headers["Retry-After"]
    assert api.json()["error"]["code"] == "unavailable"
    german = {"Accept-Language": "de"}
    flow = requests.get(f"{web}/connect/{link_token}/", headers=german, timeout=60)
    assert flow.status_code == 503 and flow.headers["Retry-After"]
    assert '<html lang="de">' in flow.text and "Erneut versuchen" in flow.text
