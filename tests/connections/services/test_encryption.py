"""Rotating the encryption key (``services/encryption.py``; README, *Rotating the encryption
key*): during a rolling deploy, processes that encrypt with the new key and processes that
still encrypt with the old one run side by side, and each must read what the other wrote;
re-encrypting never brings back a revoked connection's secrets; a key removed from the ring
too early is named before it hurts."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from connections.models import Connection, LinkSession, ValidationAttempt
from connections.security import crypto
from connections.services import encryption as keys
from connections.services.connections import connection_revoke
from tests.factories import connected, link_session

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


# --- re-encryption racing revocation -----------------------------------------------------


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs row locks (PostgreSQL)")
def test_reencrypt_never_brings_back_the_credentials_of_a_revoked_connection(
    acme, settings, monkeypatch
):
    connection, _ = connected(acme.partner)
    settings.ONRAMP_ENCRYPTION_KEYS = (
        f"{crypto.new_key_spec('k3')},{settings.ONRAMP_ENCRYPTION_KEYS}"
    )
    real_decrypt = crypto.decrypt
    revoker = threading.Thread(
        target=lambda: connection_revoke(connection=connection, actor="partner")
    )

    def decrypt_while_revoked(token: str, *, aad: str) -> bytes:
        if not revoker.is_alive() and revoker.ident is None:
            revoker.start()  # the partner revokes while reencrypt holds the old ciphertext
            revoker.join(timeout=1)
        return real_decrypt(token, aad=aad)

    monkeypatch.setattr(crypto, "decrypt", decrypt_while_revoked)
    keys.reencrypt_all()
    revoker.join(timeout=10)
    connection.refresh_from_db()
    assert connection.status == "revoked"
    assert connection.credentials == ""


# --- keys removed from the ring too early -----------------------------------------------


@pytest.fixture
def ring_without_old_key(acme, settings):
    connection, token = connected(acme.partner)
    old = crypto.key_id_of(Connection.objects.get().credentials)
    settings.ONRAMP_ENCRYPTION_KEYS = crypto.new_key_spec("k9")
    return connection, token, old


def test_deploy_checks_name_every_key_still_in_use_but_missing(ring_without_old_key):
    _, _, old = ring_without_old_key
    with pytest.raises(SystemCheckError, match=f"'{old}' still encrypts"):
        call_command("check", "--deploy", "--database", "default")
    with pytest.raises(CommandError, match=old):
        call_command("reencrypt", "--check")


def test_a_missing_key_is_our_error_and_never_breaks_the_connection(
    ring_without_old_key, api, django_capture_on_commit_callbacks
):
    connection, token, _ = ring_without_old_key
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/connections/{connection.id}/revalidate")
    attempt = ValidationAttempt.objects.get(pk=response.json()["attempt_id"])
    assert attempt.status == "error" and attempt.error_code == "internal_error"
    connection.refresh_from_db()
    assert connection.status == "active" and connection.last_error_code == ""
    introspected = api.get("/api/v1/connection", headers={"Authorization": f"Bearer {token}"})
    assert introspected.status_code == 200
