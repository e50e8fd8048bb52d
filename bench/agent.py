"""Benchmark the on-premises path: added latency through the agent, and agents per hub.

    .venv/bin/python bench/agent.py [--calls 200] [--agents 1000]

A stand-in ERPNext on 127.0.0.5 over TLS (self-signed, pinned), the hub
(``manage.py run_agent_hub``) and the agent (``onramp_agent.py``) as processes, Onramp's web
app on a local port for pairing. Then:

- a GET of the stand-in's API, each on a new TLS connection as a proxied call makes it:
  direct (urllib3, pinned) vs through the agent (Onramp's outbound client inside
  ``agent_routed``: CONNECT to the hub, a stream opened by the agent, TLS end to end);
  p50/p95 of both and the difference;
- ``--agents`` idle agents (control connections that authenticated) held by one hub process:
  its resident memory before and after, per agent.
"""

from __future__ import annotations

import argparse
import resource
import socket
import tempfile
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from common import percentile, throwaway_database, timed
from django.conf import settings
from django.db import connection


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_onramp() -> str:
    from config.wsgi import application

    server = make_server("127.0.0.1", 0, application, ThreadingWSGIServer, Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def paired(onramp: str, standin, hub):
    from catalog.registry import get_definition
    from catalog.sync import catalog_sync
    from connections.agents.models import AgentPairing
    from connections.agents.services import pairing_ready, pairing_start
    from connections.services.partners import partner_create
    from tests.connections.agents.harness import INSTANCE_HOST, STANDIN_ADDRESS, AgentProcess
    from tests.factories import link_session
    from tests.stack import wait_for

    catalog_sync()
    partner, _ = partner_create(name="Bench", origins=["https://bench.test"], actor="bench")
    session, _ = link_session(partner)
    definition = get_definition("erpnext-on-premises")
    pairing, code = pairing_start(
        session=session,
        definition=definition,
        method=definition.method("api_key"),
        config={"site": standin.site, "api_key": "k1"},
        credentials={"api_secret": "s"},
    )
    agent = AgentProcess()
    result = agent.pair(code, onramp, f"{INSTANCE_HOST}:{standin.port}:{STANDIN_ADDRESS}")
    assert result.returncode == 0, result.stderr
    agent.run()
    ready = lambda: pairing_ready(AgentPairing.objects.select_related("agent").get(pk=pairing.pk))  # noqa: E731
    wait_for(ready, 60, "the agent")
    return AgentPairing.objects.select_related("agent").get(pk=pairing.pk).agent, agent


def latencies(standin, hub, agent_row, calls: int) -> tuple[list[float], list[float]]:
    import urllib3

    from connections.outbound.agent_routes import AgentRoute, agent_routed
    from connections.outbound.client import Client
    from tests.connections.agents.harness import INSTANCE_HOST

    path = "/api/resource/Company"
    headers = {"Authorization": "token k1:s3cr3t-canary-value", "Host": INSTANCE_HOST}

    def direct() -> None:
        pool = urllib3.HTTPSConnectionPool(
            "127.0.0.5",
            standin.port,
            cert_reqs="CERT_NONE",
            assert_fingerprint=standin.fingerprint,
            server_hostname=INSTANCE_HOST,
        )
        assert pool.request("GET", path, headers=headers).status == 200
        pool.close()

    route = AgentRoute(agent_row.id, INSTANCE_HOST, standin.port, standin.fingerprint, hub.proxy)

    def through_agent() -> None:
        with agent_routed(route), Client() as client:
            response = client.request("GET", standin.site + path, headers=headers)
            assert response.status == 200

    for call in (direct, through_agent):  # warm up
        call()
    return timed(direct, calls), timed(through_agent, calls)


def hold_agents(hub, count: int) -> tuple[int, int]:
    from connections.agents.models import Agent
    from connections.security import tokens
    from connections.security.tokens import TokenKind

    partner = Agent.objects.first().partner
    values = []
    rows = []
    for i in range(count):
        minted = tokens.mint(TokenKind.AGENT)
        values.append(minted.value)
        rows.append(
            Agent(partner=partner, end_user_id=f"u{i}", token_digest=minted.digest, targets=[])
        )
    Agent.objects.bulk_create(rows, batch_size=500)
    before = rss_kib(hub.process.pid)
    host, _, port = hub.listen.rpartition(":")
    held = []
    for value in values:
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(
            (
                "GET /agent/v1/control HTTP/1.1\r\nHost: hub\r\nConnection: Upgrade\r\n"
                f"Upgrade: onramp-relay\r\nAuthorization: Bearer {value}\r\n\r\n"
            ).encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += sock.recv(1)
        assert b" 101 " in head, head
        held.append(sock)
    time.sleep(3)
    after = rss_kib(hub.process.pid)
    for sock in held:
        sock.close()
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--agents", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.agents + 256)), hard))

    from tests.connections.agents.harness import StandIn, start_hub

    with throwaway_database() as vendor:
        assert vendor == "postgresql", "the hub shares the database: PostgreSQL only"
        standin = StandIn(Path(tempfile.mkdtemp())).start()
        hub = start_hub(connection.settings_dict["NAME"], ONRAMP_AGENT_HEARTBEAT="15")
        settings.ONRAMP_AGENT_HUB_URL = hub.url
        settings.ONRAMP_AGENT_PROXY_LISTEN = hub.proxy
        onramp = serve_onramp()
        agent = None
        try:
            agent_row, agent = paired(onramp, standin, hub)
            direct, relayed = latencies(standin, hub, agent_row, args.calls)
            before, after = hold_agents(hub, args.agents)
        finally:
            if agent:
                agent.kill()
            hub.stop()
            standin.stop()
    print(f"{'GET, new TLS connection each':<34} {'p50 ms':>8} {'p95 ms':>8}")
    for name, samples in (("direct (loopback)", direct), ("through hub + agent", relayed)):
        print(f"{name:<34} {percentile(samples, 0.5):8.1f} {percentile(samples, 0.95):8.1f}")
    added50 = percentile(relayed, 0.5) - percentile(direct, 0.5)
    added95 = percentile(relayed, 0.95) - percentile(direct, 0.95)
    print(f"{'added by the agent path':<34} {added50:8.1f} {added95:8.1f}")
    per_agent = (after - before) / max(1, args.agents)
    print(
        f"hub RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB holding {args.agents} agents: "
        f"{per_agent:.1f} KiB per agent"
    )


if __name__ == "__main__":
    main()
