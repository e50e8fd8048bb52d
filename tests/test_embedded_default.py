"""The embedded default (``make demo``: SQLite, tasks inline, runserver) under the load one
busy page gives it: many submits at once while drafts are being kept."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.fakes.receiver import FakeReceiver
from tests.standalone import ROOT, free_port, manage, own_env, serving

pytestmark = pytest.mark.slow
METHOD = "s/sandbox-erp/password/"
SANDBOX_LOGIN = {"company": "demo", "username": "demo", "password": "sandbox-demo"}


@pytest.fixture
def demo(tmp_path: Path):
    """``make demo`` on a database of its own: migrated, the catalog loaded, a partner, and
    runserver (threaded, as ``make demo`` runs it). Yields (url, the partner's secret key)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = own_env(ONRAMP_DATA_DIR=str(tmp_path), ONRAMP_PUBLIC_URL=url)
    manage("migrate", "--noinput", env=env)
    manage("sync_catalog", env=env)
    created = manage(
        "create_partner", "--name", "Acme", "--origin", "https://app.acme.test", env=env
    )
    secret = re.search(r"(onr_sk_\w+)", created).group(1)
    command = ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with serving(command, env=env, cwd=ROOT, url=url + "/static/connect.js"):
        yield url, secret


def test_parallel_submits_and_draft_autosaves_never_fail_on_a_locked_database(demo):
    url, secret = demo
    api = {"Authorization": f"Bearer {secret}"}
    sessions = [
        requests.post(
            f"{url}/api/v1/link-sessions",
            json={"end_user": {"id": f"u{n}"}},
            headers=api,
            timeout=60,
        ).json()
        for n in range(20)
    ]
    links = [f"{url}/connect/{session['link_token']}/{METHOD}" for session in sessions]
    typed = {"company": "demo", "username": "demo"}
    calls = [(link + "details/", SANDBOX_LOGIN) for link in links]
    calls += [(link + "draft/", typed) for link in links for _ in range(3)]
    random.shuffle(calls)

    def post(call: tuple[str, dict[str, str]]) -> tuple[str, int]:
        answer = requests.post(call[0], data=call[1], allow_redirects=False, timeout=120)
        return call[0].rsplit("/", 2)[-2], answer.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:  # runserver queues 10 connections
        answers = list(pool.map(post, calls))
    assert [status for _, status in answers if status >= 500] == []
    assert {status for kind, status in answers if kind == "details"} == {303}
    # A draft is kept (204), or it came after the submit and is sent on to the check (302).
    assert {status for kind, status in answers if kind == "draft"} <= {204, 302}
    for session in sessions:  # every submit was checked and connected
        status = requests.get(f"{url}/api/v1/link-sessions/{session['id']}", headers=api)
        assert status.json()["status"] == "completed" and status.json()["connection_id"]


def test_make_demo_retries_a_webhook_to_a_receiver_on_this_machine(tmp_path: Path):
    """``make demo``'s processes: runserver and ``run_scheduled`` beside it, no broker. A test
    key registers ``http://127.0.0.1:…`` (allowed with DEBUG on); the receiver refuses the
    first try; ``run_scheduled`` sends the retry."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = own_env(
        ONRAMP_DATA_DIR=str(tmp_path),
        ONRAMP_PUBLIC_URL=url,
        ONRAMP_SWEEP_INTERVAL="1",
        ONRAMP_WEBHOOK_TIMEOUT="2",  # a try's lease, before the sweeper takes it for lost: 3 s
    )
    manage("migrate", "--noinput", env=env)
    created = manage("create_partner", "--name", "Acme", "--test", env=env)
    secret = re.search(r"(onr_sk_test_\w+)", created).group(1)
    api = {"Authorization": f"Bearer {secret}"}
    receiver = FakeReceiver().start()
    receiver.answers[:] = [503]
    scheduled = subprocess.Popen([sys.executable, "manage.py", "run_scheduled"], cwd=ROOT, env=env)
    command = ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    try:
        with serving(command, env=env, cwd=ROOT, url=url + "/static/connect.js"):
            hook = {"url": f"{receiver.url}/onramp"}
            endpoint = requests.post(f"{url}/api/v1/webhook-endpoints", json=hook, headers=api)
            assert endpoint.status_code == 201, endpoint.text
            receiver.secrets.append(endpoint.json()["secret"])
            sent = requests.post(
                f"{url}/api/v1/webhook-endpoints/{endpoint.json()['id']}/test", headers=api
            )
            assert sent.status_code == 202
            deadline = time.monotonic() + 90
            while not receiver.accepted and time.monotonic() < deadline:
                time.sleep(0.5)
            assert receiver.types() == ["webhook.test"] and len(receiver.requests) == 2
            deliveries = requests.get(f"{url}/api/v1/webhook-deliveries", headers=api).json()
            assert [(d["status"], d["attempts"]) for d in deliveries["data"]] == [("succeeded", 2)]
    finally:
        scheduled.terminate()
        scheduled.wait(timeout=20)
        receiver.stop()
