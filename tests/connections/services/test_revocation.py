"""Revocation is final (SECURITY.md rule 13): whatever was in flight when a connection was
revoked — a reconnect's check, a reconnect link made before, a token exchange — never brings
it back, nor leaves a working token."""

from __future__ import annotations

import threading

import pytest
import requests
from django.conf import settings
from django.test import Client

from connections.models import (
    Connection,
    ConnectionToken,
    Event,
    LinkSession,
    ValidationAttempt,
)
from connections.services.connections import connection_revoke, public_token_exchange
from connections.services.link_sessions import link_session_complete
from tests.factories import connected, link_session, validated_session
from tests.fakes.base import Trick

pytestmark = pytest.mark.django_db(transaction=True)
DETAILS = "s/infoplus/api_key/details/"
FORM = {"site": "acme", "api_key": "key-2"}


def wait_for(predicate, timeout: float = 60.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_revoking_while_a_reconnect_is_checked_keeps_the_connection_revoked(
    stack, live_server, acme, fake_systems
):
    fake_systems.infoplus.sites["acme"] = {"key-1", "key-2"}
    connection, access_token = connected(acme.partner)
    _, token = link_session(acme.partner, connection_id=connection.id)
    fake_systems.infoplus.tricks.append(Trick("stall", seconds=3))
    stack.worker()
    submitted = requests.post(
        f"{live_server.url}/connect/{token}/{DETAILS}", data=FORM, timeout=60
    )
    assert submitted.status_code == 200
    attempt = ValidationAttempt.objects.filter(link_session__connection=connection).latest(
        "created_at"
    )
    wait_for(lambda: len(fake_systems.infoplus.requests) >= 1)  # the check is under way
    revoked = acme.client().delete(f"/api/v1/connections/{connection.id}")
    assert revoked.status_code == 200

    def finished():
        attempt.refresh_from_db()
        return attempt.is_finished

    wait_for(finished)
    assert attempt.status == "error" and attempt.error_code == "connection_revoked"
    connection.refresh_from_db()
    assert connection.status == "revoked" and connection.credentials == ""
    assert not ConnectionToken.objects.filter(connection=connection, revoked_at=None).exists()
    assert not Event.objects.filter(kind="connection.reconnected").exists()
    introspected = Client().get(
        "/api/v1/connection", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert introspected.status_code == 401


def test_a_reconnect_link_made_before_the_revoke_cannot_bring_it_back(acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1", "key-2"}
    connection, _ = connected(acme.partner)
    reconnect, token = link_session(acme.partner, connection_id=connection.id)
    connection_revoke(connection=connection, actor="partner")
    page = Client().post(f"/connect/{token}/{DETAILS}", FORM)
    assert page.status_code == 409
    assert "This connection was revoked." in page.content.decode()
    assert Connection.objects.get().status == "revoked"
    assert LinkSession.objects.get(pk=reconnect.pk).validated_at is None
    assert fake_systems.infoplus.requests == []  # not even checked


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL")
@pytest.mark.parametrize("run", range(5))
def test_a_token_exchange_racing_a_revoke_never_leaves_a_working_token(acme, run):
    session = validated_session(acme.partner)
    public_token = link_session_complete(session=session)
    connection = Connection.objects.get()
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def exchange() -> None:
        barrier.wait()
        try:
            results["exchange"] = public_token_exchange(
                partner=acme.partner, public_token=public_token, actor="partner"
            )
        except Exception as exc:  # refused: the revoke came first
            results["exchange"] = exc
        finally:
            from django.db import connection as db

            db.close()

    def revoke() -> None:
        barrier.wait()
        try:
            connection_revoke(connection=Connection.objects.get(pk=connection.pk), actor="p")
        finally:
            from django.db import connection as db

            db.close()

    threads = [threading.Thread(target=exchange), threading.Thread(target=revoke)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Connection.objects.get().status == "revoked"
    assert not ConnectionToken.objects.filter(revoked_at=None).exists()
    outcome = results["exchange"]
    if isinstance(outcome, tuple):  # exchanged first: that token was revoked with the rest
        _, access_token = outcome
        answer = Client().get(
            "/api/v1/connection", headers={"Authorization": f"Bearer {access_token}"}
        )
        assert answer.status_code == 401
    else:
        assert getattr(outcome, "code", "") == "invalid_public_token"
