"""Rotating the encryption key during a rolling deploy (README, *Rotating the encryption
key*): while it rolls, processes that encrypt with the new key and processes that still
encrypt with the old one run side by side, and each must read what the other wrote."""

from __future__ import annotations

import time

import pytest
import requests
from django.core.management import call_command

from connections.models import Connection, LinkSession, ValidationAttempt
from connections.security import crypto
from tests.factories import link_session

pytestmark = pytest.mark.django_db(transaction=True)
SANDBOX_LOGIN = {"company": "demo", "username": "demo", "password": "sandbox-demo"}
KEYS = {key_id: crypto.new_key_spec(key_id) for key_id in ("old", "new")}


def ring(*key_ids: str) -> str:
    """``ONRAMP_ENCRYPTION_KEYS`` holding these keys, the first one encrypting."""
    return ",".join(KEYS[key_id] for key_id in key_ids)


def finished(attempt_id: str, *, within: float = 120) -> ValidationAttempt:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        attempt = ValidationAttempt.objects.get(pk=attempt_id)
        if attempt.is_finished:
            return attempt
        time.sleep(0.2)
    raise AssertionError(f"the check did not finish within {within:.0f} s")


@pytest.mark.parametrize(
    ("web_ring", "worker_ring"),
    [(("new", "old"), ("old", "new")), (("old", "new"), ("new", "old"))],
    ids=["web-promoted-first", "workers-promoted-first"],
)
def test_processes_promoted_and_not_yet_promoted_read_each_others_secrets(
    stack, acme, settings, web_ring, worker_ring
):
    """Phase (b) half rolled out: one kind of process encrypts with the new key, the other
    still with the old (both hold both, from phase (a)). The web writes the submitted
    password, the worker reads it and writes the connection, the web reads that to proxy;
    then (c) ``reencrypt`` leaves nothing under the old key."""
    web = stack.gunicorn(ONRAMP_ENCRYPTION_KEYS=ring(*web_ring))
    web_key, worker_key = web_ring[0], worker_ring[0]  # what each encrypts with
    session, token = link_session(acme.partner)
    submitted = requests.post(
        f"{web}/connect/{token}/s/sandbox-erp/password/details/",
        data=SANDBOX_LOGIN,
        allow_redirects=False,
        timeout=60,
    )
    assert submitted.status_code == 303
    written_by_web = ValidationAttempt.objects.get(link_session=session)
    # Read before any worker runs it: a passed check erases the attempt's copy.
    assert crypto.key_id_of(written_by_web.credentials) == web_key
    stack.worker(ONRAMP_ENCRYPTION_KEYS=ring(*worker_ring))
    attempt = finished(written_by_web.pk)
    assert attempt.status == "succeeded", attempt.error_message  # the worker read it
    assert crypto.key_id_of(Connection.objects.get().credentials) == worker_key
    assert crypto.key_id_of(LinkSession.objects.get().public_token_sealed) == worker_key

    partner = {"Authorization": f"Bearer {acme.secret}"}
    status = requests.get(f"{web}/api/v1/link-sessions/{session.id}", headers=partner, timeout=60)
    public_token = status.json()["public_token"]  # the web read what the worker wrote
    exchanged = requests.post(
        f"{web}/api/v1/token-exchange",
        json={"public_token": public_token},
        headers=partner,
        timeout=60,
    )
    assert exchanged.status_code == 200, exchanged.text
    connection_token = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
    orders = requests.get(f"{web}/api/v1/proxy/v1/orders", headers=connection_token, timeout=60)
    assert orders.status_code == 200, orders.text  # signed with the worker's ciphertext

    settings.ONRAMP_ENCRYPTION_KEYS = ring("new", "old")  # (c), once every process has it first
    call_command("reencrypt")
    settings.ONRAMP_ENCRYPTION_KEYS = ring("new")
    call_command("reencrypt", "--check")  # nothing left under "old": it may leave the ring
    orders = requests.get(f"{web}/api/v1/proxy/v1/orders", headers=connection_token, timeout=60)
    assert orders.status_code == 200, orders.text
