"""Pairing codes are one-time, short-lived and bound to one link session; an agent carries
only its own customer's connections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.registry import get_definition
from connections.agents.models import Agent, AgentPairing
from connections.agents.presence import agents_lost_sweep
from connections.agents.routing import agent_route_for_connection
from connections.agents.services import pairing_start
from connections.models import Connection, ConnectionStatus, Event
from connections.services.partners import partner_create
from tests.factories import link_session

pytestmark = pytest.mark.django_db
SITE = "https://erp.acme-corp.test:8443"


def start(partner, **spec):
    session, _ = link_session(partner, **spec)
    definition = get_definition("erpnext-on-premises")
    return pairing_start(
        session=session,
        definition=definition,
        method=definition.method("api_key"),
        config={"site": SITE, "api_key": "k1"},
        credentials={"api_secret": "s3cr3t"},
    )


def claim(code: str):
    return Client().post(
        "/agent/v1/pair", {"code": code, "name": "erp-gw"}, content_type="application/json"
    )


def test_a_code_pairs_once_for_the_instance_the_end_user_entered(acme):
    pairing, code = start(acme.partner)

    first = claim(code.lower().replace("-", ""))  # as typed over the phone
    again = claim(code)

    assert first.status_code == 201, first.content
    body = first.json()
    assert body["token"].startswith("onr_at_")
    assert body["targets"] == [{"host": "erp.acme-corp.test", "port": 8443}]
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_code"
    agent = Agent.objects.get(pk=body["agent_id"])
    assert (agent.partner_id, agent.end_user_id) == (acme.partner.id, "user-1")
    assert body["token"] not in str(Agent.objects.values().get(pk=agent.pk))  # a digest only
    assert "s3cr3t" not in AgentPairing.objects.get(pk=pairing.pk).credentials  # sealed


def test_a_wrong_or_expired_code_is_refused(acme):
    pairing, code = start(acme.partner)
    assert claim("ABCD-EFGH").status_code == 400
    AgentPairing.objects.filter(pk=pairing.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = claim(code)
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "invalid_code"
    assert not Agent.objects.exists()


def test_only_the_agents_own_customers_connections_are_routed_through_it(acme):
    _, code = start(acme.partner)
    agent = Agent.objects.get(pk=claim(code).json()["agent_id"])
    other, _ = partner_create(name="Globex", origins=["https://globex.test"], actor="test")

    def connection(partner, end_user_id="user-1"):
        return Connection.objects.create(
            partner=partner,
            system_id="erpnext-on-premises",
            method="api_key",
            end_user_id=end_user_id,
            config={"site": SITE, "api_key": "k1"},
            status=ConnectionStatus.ACTIVE,
            agent=agent,
        )

    assert agent_route_for_connection(connection(acme.partner)) is not None
    assert agent_route_for_connection(connection(other)) is None
    assert agent_route_for_connection(connection(acme.partner, "user-2")) is None
    elsewhere = connection(acme.partner)
    elsewhere.config = {"site": "https://erp.acme-corp.test:9443", "api_key": "k1"}
    assert agent_route_for_connection(elsewhere) is None  # not what was confirmed
    agent.revoked_at = timezone.now()
    agent.save()
    assert agent_route_for_connection(connection(acme.partner)) is None


def test_the_agent_is_served_for_download_with_its_digest(client):
    response = client.get("/agent/onramp-agent.py")
    assert response.status_code == 200
    assert b"standard library only" in response.content
    assert len(response["X-Content-SHA256"]) == 64


def test_agents_whose_hub_went_silent_are_swept_offline(acme):
    _, code = start(acme.partner)
    agent = Agent.objects.get(pk=claim(code).json()["agent_id"])
    connection = Connection.objects.create(
        partner=acme.partner,
        system_id="erpnext-on-premises",
        method="api_key",
        end_user_id="user-1",
        config={"site": SITE, "api_key": "k1"},
        status=ConnectionStatus.ACTIVE,
        agent=agent,
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Agent.objects.filter(pk=agent.pk).update(
        status="online", hub="10.0.0.9:8701", last_seen_at=long_ago
    )

    assert agents_lost_sweep() == 1

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.AGENT_OFFLINE
    assert Event.objects.filter(connection=connection, kind="connection.agent_offline").exists()
