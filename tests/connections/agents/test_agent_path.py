"""The on-premises path end to end, with the hub and the agent as real processes: pairing, the
live check and proxied calls through the agent, what the agent refuses, what stays refused."""

from __future__ import annotations

import base64
import socket

import pytest

from connections.agents.models import Agent, AgentPairing
from connections.agents.services import pairing_confirm, pairing_ready
from connections.models import (
    AttemptStatus,
    Connection,
    ConnectionStatus,
    ValidationAttempt,
    WebhookDelivery,
)
from connections.outbound.agent_routes import AgentRoute, agent_routed, route_token
from connections.outbound.client import request
from connections.outbound.errors import OutboundError
from connections.services.connections import connection_token_mint
from connections.services.health import health_check_run
from connections.services.partners import partner_create
from tests.conftest import bearer, post
from tests.connections.agents.conftest import SECRET
from tests.connections.agents.harness import INSTANCE_HOST
from tests.stack import wait_for

pytestmark = pytest.mark.slow


def _colons(hexdigest: str) -> str:
    return ":".join(hexdigest[i : i + 2] for i in range(0, 64, 2)).upper()


def paired_agent(onprem, partner):
    """Pair an agent with the code shown in a session and run it; wait until it is ready."""
    session, pairing, code = onprem.pairing(partner)
    agent = onprem.agent()
    paired = agent.pair(code, onprem.onramp, onprem.resolve())
    assert paired.returncode == 0, paired.stderr
    # IT sees what it allows: the host, port and the certificate's fingerprint.
    assert f"{INSTANCE_HOST}:{onprem.standin.port}" in paired.stdout
    assert _colons(onprem.standin.fingerprint) in paired.stdout
    assert oct(agent.config.stat().st_mode & 0o777) == "0o600"  # the token: its user only
    agent.run()
    ready = lambda: pairing_ready(AgentPairing.objects.select_related("agent").get(pk=pairing.pk))  # noqa: E731
    wait_for(ready, 60, "the agent to connect and report the certificate")
    return session, AgentPairing.objects.select_related("agent").get(pk=pairing.pk), agent


def connect_through_agent(onprem, partner):
    session, pairing, agent = paired_agent(onprem, partner)
    assert pairing.agent.fingerprint_for(INSTANCE_HOST, onprem.standin.port) == (
        onprem.standin.fingerprint
    )
    attempt = pairing_confirm(pairing=pairing, client_ip="198.51.100.7")
    finished = lambda: ValidationAttempt.objects.get(pk=attempt.pk).is_finished  # noqa: E731
    wait_for(finished, 60, "the live check")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED, attempt.error_code
    session.refresh_from_db()
    connection = session.connection
    assert connection.agent_id == pairing.agent_id and connection.status == ConnectionStatus.ACTIVE
    return connection, pairing.agent, agent


def test_the_live_check_and_proxied_calls_run_through_the_agent(onprem, acme):
    connection, _, agent = connect_through_agent(onprem, acme.partner)
    token = connection_token_mint(connection=connection, actor="test")

    response = bearer(token).get("/api/v1/proxy/api/resource/Company")

    assert response.status_code == 200, response.content
    assert response.json() == {"data": [{"name": "Acme Manufacturing"}]}
    # The system saw its own name and the key; the credentials stayed inside TLS.
    seen = onprem.standin.requests[-1]
    assert seen.host == INSTANCE_HOST
    assert seen.headers["authorization"] == f"token k1:{SECRET}"
    # The agent's log says what it relayed, readable by IT, and holds no secret.
    wait_for(lambda: "relay host=erp.acme-corp.test" in agent.log_text(), 30, "the relay log")
    assert SECRET not in agent.log_text() and "k1" not in agent.log_text()


def test_a_paired_agent_asked_for_another_host_refuses_and_logs_it(onprem, acme):
    _, pairing, agent = paired_agent(onprem, acme.partner)
    # Even should Onramp's side be wrong about what the agent serves, the agent holds to
    # what its IT allowed at pairing.
    other = {"host": "other.acme-corp.test", "port": onprem.standin.port, "fingerprint": ""}
    Agent.objects.filter(pk=pairing.agent_id).update(targets=[*pairing.agent.targets, other])
    agent.kill()
    agent.run()  # the hub reads the (widened) targets as the agent reconnects
    reconnected = lambda: agent.log_text().count("connected to Onramp") == 2  # noqa: E731
    wait_for(reconnected, 60, "the agent to reconnect")
    route = AgentRoute(pairing.agent_id, other["host"], other["port"], "", onprem.hub.proxy)

    with agent_routed(route), pytest.raises(OutboundError):
        request("GET", f"https://{other['host']}:{other['port']}/api/resource/Company")

    wait_for(lambda: "refused host=other.acme-corp.test" in agent.log_text(), 30, "the refusal")


def test_the_hub_refuses_connects_it_was_not_signed_for(onprem, acme):
    _, pairing, _ = paired_agent(onprem, acme.partner)
    target = f"{INSTANCE_HOST}:{onprem.standin.port}"
    forged = route_token("agt_someone_else", INSTANCE_HOST, onprem.standin.port)[:-2] + "xx"
    other_target = route_token(pairing.agent_id, "db.acme-corp.test", 5432)

    host, _, port = onprem.hub.proxy.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:  # a head too large
        sock.sendall(b"CONNECT " + b"a" * 40_000 + b"\r\n\r\n")
        assert sock.recv(100) == b""  # hung up on, and the hub goes on serving
    assert _connect(onprem.hub.proxy, target, "not-a-token").startswith(b"HTTP/1.1 407")
    assert _connect(onprem.hub.proxy, target, forged).startswith(b"HTTP/1.1 407")
    assert _connect(onprem.hub.proxy, target, other_target).startswith(b"HTTP/1.1 407")
    # Signed for a target the agent does not serve: refused before the agent is asked.
    db = "db.acme-corp.test:5432"
    assert _connect(onprem.hub.proxy, db, other_target).startswith(b"HTTP/1.1 403")


def _connect(proxy: str, target: str, token: str) -> bytes:
    host, _, port = proxy.rpartition(":")
    basic = base64.b64encode(f"agent:{token}".encode()).decode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"CONNECT {target} HTTP/1.1\r\nProxy-Authorization: Basic {basic}\r\n\r\n".encode()
        )
        return sock.recv(4096)


def test_a_direct_call_to_the_private_instance_stays_refused(onprem, acme):
    paired_agent(onprem, acme.partner)  # an agent serving it exists: no route is implied

    with pytest.raises(OutboundError):
        request("GET", onprem.standin.site + "/api/resource/Company")
    with pytest.raises(OutboundError) as refused:
        request("GET", f"https://127.0.0.5:{onprem.standin.port}/api/resource/Company")
    assert refused.value.code == "forbidden_address"
    assert onprem.standin.requests == []


def test_a_wrong_pin_fails_the_check_instead_of_trusting_the_certificate(onprem, acme):
    _, pairing, _ = paired_agent(onprem, acme.partner)
    agent = pairing.agent
    agent.targets = [{**agent.targets[0], "fingerprint": "ab" * 32}]
    agent.save(update_fields=["targets"])
    pairing.agent = agent

    attempt = pairing_confirm(pairing=pairing, client_ip="198.51.100.7")

    wait_for(lambda: ValidationAttempt.objects.get(pk=attempt.pk).is_finished, 60, "the check")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED and attempt.error_code == "tls_error"
    assert onprem.standin.requests == []  # nothing was sent to a certificate not confirmed


def _status(connection) -> str:
    return Connection.objects.get(pk=connection.pk).status


def test_an_agent_gone_makes_its_connections_agent_offline_then_active_again(onprem, acme, api):
    events = ["connection.agent_offline", "connection.agent_online"]
    hook = post(api, "/webhook-endpoints", {"url": "https://hooks.acme.test/x", "events": events})
    assert hook.status_code == 201, hook.content
    connection, _, agent = connect_through_agent(onprem, acme.partner)
    token = connection_token_mint(connection=connection, actor="test")

    agent.kill()  # as a crash or a pulled cable: no goodbye

    wait_for(lambda: _status(connection) == ConnectionStatus.AGENT_OFFLINE, 60, "agent_offline")
    refused = bearer(token).get("/api/v1/proxy/api/resource/Company")
    assert refused.status_code == 409
    agent.run()
    wait_for(lambda: _status(connection) == ConnectionStatus.ACTIVE, 60, "active again")
    assert bearer(token).get("/api/v1/proxy/api/resource/Company").status_code == 200
    sent = WebhookDelivery.objects.filter(event__connection=connection)
    assert sorted(sent.values_list("event__kind", flat=True)) == sorted(events)


def test_a_revoked_agent_is_dropped_and_cannot_come_back(onprem, acme, api):
    connection, agent_row, agent = connect_through_agent(onprem, acme.partner)

    revoked = api.delete(f"/api/v1/agents/{agent_row.id}")

    assert revoked.status_code == 204
    assert _status(connection) == ConnectionStatus.AGENT_OFFLINE
    wait_for(lambda: "refused this agent" in agent.log_text(), 60, "the agent to be turned away")
    _, other_key = partner_create(name="Globex", origins=["https://globex.test"], actor="test")
    assert bearer(other_key).delete(f"/api/v1/agents/{agent_row.id}").status_code == 404


def test_one_agent_serves_another_connection_of_the_same_customer(onprem, acme):
    first, agent_row, _ = connect_through_agent(onprem, acme.partner)

    _, pairing, code = onprem.pairing(acme.partner)  # the same customer, a new link

    assert code == "" and pairing.agent_id == agent_row.id  # nothing to install again
    attempt = pairing_confirm(pairing=pairing, client_ip="198.51.100.7")
    wait_for(lambda: ValidationAttempt.objects.get(pk=attempt.pk).is_finished, 60, "the check")
    second = Connection.objects.exclude(pk=first.pk).get()
    assert second.agent_id == agent_row.id and second.status == ConnectionStatus.ACTIVE
    # Its health check runs through the agent too.
    health_check_run(connection_id=second.pk)
    second.refresh_from_db()
    assert second.status == ConnectionStatus.ACTIVE and second.last_checked_at is not None
