from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from catalog.registry import get_definition
from connections.agents.models import AgentPairing
from connections.agents.services import pairing_start
from connections.models import LinkSession
from tests.connections.agents.harness import (
    INSTANCE_HOST,
    STANDIN_ADDRESS,
    AgentProcess,
    Hub,
    StandIn,
    start_hub,
)
from tests.factories import link_session

SECRET = "s3cr3t-canary-value"


@dataclass
class OnPrem:
    """A customer's private network (the stand-in), Onramp's hub, and the agents started."""

    onramp: str
    standin: StandIn
    hub: Hub
    agents: list[AgentProcess] = field(default_factory=list)

    def resolve(self) -> str:
        return f"{INSTANCE_HOST}:{self.standin.port}:{STANDIN_ADDRESS}"

    def agent(self) -> AgentProcess:
        self.agents.append(AgentProcess())
        return self.agents[-1]

    def pairing(self, partner: Any, **spec: Any) -> tuple[LinkSession, AgentPairing, str]:
        """A link session of ``partner`` whose end user entered the stand-in's address."""
        session, _ = link_session(partner, **spec)
        definition = get_definition("erpnext-on-premises")
        pairing, code = pairing_start(
            session=session,
            definition=definition,
            method=definition.method("api_key"),
            config={"site": self.standin.site, "api_key": "k1"},
            credentials={"api_secret": SECRET},
        )
        return session, pairing, code


@pytest.fixture
def onprem(live_server: Any, settings: Any, tmp_path: Any, catalog: None) -> Iterator[OnPrem]:
    if not settings.USING_POSTGRES:
        pytest.skip("the hub process shares the test database: PostgreSQL only")
    from django.db import connection

    standin = StandIn(tmp_path).start()
    hub = start_hub(connection.settings_dict["NAME"])
    settings.ONRAMP_AGENT_HUB_URL = hub.url
    settings.ONRAMP_AGENT_PROXY_LISTEN = hub.proxy
    world = OnPrem(live_server.url, standin, hub)
    try:
        yield world
    finally:
        for agent in world.agents:
            agent.kill()
        hub.stop()
        standin.stop()
