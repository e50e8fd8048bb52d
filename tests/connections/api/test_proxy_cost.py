"""What a proxied call costs Onramp's cache (issue 17: the proxy's own overhead ≤ 5 ms): its
token, its rate limit, its slots in flight and its sign-in pause are looked up in a few Redis
round trips (the limit, the slots and the pause in one), never one per check as before (12)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from redis.connection import AbstractConnection

from connections.security.inflight import Cap, held
from tests.factories import connected

pytestmark = pytest.mark.django_db
INFOPLUS = "infoplus-wms/api/v3.0/lineOfBusiness/search"
MAX_ROUND_TRIPS = 5  # the token; its last use; limit + slots + pause; the slots given back; use


@pytest.fixture
def infoplus(acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    return connected(acme.partner)


def call(token: str) -> tuple[int, dict]:
    """A partner's call (the test client closes the answer as a server does once it is
    sent, so its use is counted too)."""
    response = Client().get(
        f"/api/v1/proxy/{INFOPLUS}", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.json()


@pytest.mark.skipif(not settings.USING_REDIS, reason="round trips to Redis")
def test_a_proxied_call_takes_at_most_five_redis_round_trips(infoplus, monkeypatch):
    _, token = infoplus
    assert call(token)[0] == 200  # the token cached, the first use written
    sent = []
    original = AbstractConnection.send_packed_command

    def counted(self, command, *args, **kwargs):
        sent.append(command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    status, body = call(token)
    assert status == 200 and body == [{"id": 1, "name": "Main"}]
    assert len(sent) <= MAX_ROUND_TRIPS


def test_a_call_over_the_rate_limit_is_refused_and_holds_no_slot(infoplus, settings):
    connection, token = infoplus
    settings.ONRAMP_PROXY_REQUESTS_PER_MINUTE = 1
    settings.ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION = 1
    assert call(token)[0] == 200
    status, body = call(token)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert held(Cap(f"connection:{connection.id}", 1)) == 0
    assert held(Cap(f"partner:{connection.partner_id}", 24)) == 0


def test_sign_ins_paused_after_refusals_are_seen_in_the_same_round_trip(infoplus, fake_systems):
    _, token = infoplus
    fake_systems.infoplus.sites["acme"] = {"another-key"}  # the customer changed the key
    statuses = [call(token)[0] for _ in range(settings.ONRAMP_PROXY_AUTH_REFUSALS + 1)]
    sent_before = len(fake_systems.infoplus.requests)
    status, body = call(token)
    assert statuses[0] == 401 and status == 503
    assert body["error"]["code"] == "remote_auth_paused"
    assert len(fake_systems.infoplus.requests) == sent_before  # the remote was left alone
