"""The agent hub: an asyncio process holding agents' control connections (``run_agent_hub``).

Two listeners, each a sliver of HTTP/1.1 on asyncio streams (standard library only):

- **Agents** (``ONRAMP_AGENT_HUB_LISTEN``, behind the load balancer's TLS on 443):
  ``GET /agent/v1/control`` with the agent's token and ``Upgrade: onramp-relay`` → ``101``,
  then one JSON object per line each way (hub: ``open``, ``ping``; agent: ``refused``,
  ``pong``); ``GET /agent/v1/streams/<id>`` the same way → ``101``, then the raw bytes of one
  relayed TCP connection, opened by the agent when asked to.
- **Onramp's workers** (``ONRAMP_AGENT_PROXY_LISTEN``, internal): ``CONNECT host:port`` with a
  ``Proxy-Authorization`` that Onramp signed for one agent and that target
  (``outbound/agent_routes.py``). The hub asks that agent to open a stream to it, answers
  ``200 Connection established`` and splices: the worker's TLS runs through to the customer's
  system, so the hub and the agent see ciphertext only. The hub never dials anything itself.

Waiting agents cost a socket and a coroutine each here, none of the web workers. Presence is
written to the database in one UPDATE per heartbeat for all of a hub's agents.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections

from connections.agents import presence
from connections.agents.services import agent_authenticate
from connections.outbound.agent_routes import route_token_claims
from connections.security import tokens

logger = logging.getLogger(__name__)

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT = 15.0
OPEN_TIMEOUT = 15.0  # the agent's stream for a CONNECT, including its TCP connect
CHUNK = 64 * 1024
LimitOverrun = asyncio.LimitOverrunError  # a head beyond HEAD_LIMIT


@dataclass
class ControlLink:
    agent_id: str
    token_digest: str
    targets: set[tuple[str, int]]
    writer: asyncio.StreamWriter
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message).encode() + b"\n")
        await self.writer.drain()


@dataclass
class Pending:
    agent_id: str
    opened: asyncio.Future


def _db(function: Callable[..., Any], **kwargs: Any) -> Any:
    close_old_connections()
    try:
        return function(**kwargs)
    finally:
        close_old_connections()


async def in_thread(function: Callable[..., Any], **kwargs: Any) -> Any:
    """A database call, off the event loop."""
    return await asyncio.to_thread(_db, function, **kwargs)


async def read_head(reader: asyncio.StreamReader) -> tuple[list[str], dict[str, str]]:
    """The request line's words and the headers (lower-case names)."""
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
    if len(raw) > HEAD_LIMIT:
        raise ValueError("head too large")
    line, *rest = raw.decode("latin-1").split("\r\n")
    headers = {}
    for item in filter(None, rest):
        name, _, value = item.partition(":")
        headers[name.strip().lower()] = value.strip()
    return line.split(" "), headers


async def answer(writer: asyncio.StreamWriter, status: str, body: str = "") -> None:
    payload = body.encode()
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    writer.write(head.encode() + payload)
    with contextlib.suppress(OSError):
        await writer.drain()
    writer.close()


async def splice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """Copy one way until EOF; the bytes copied."""
    copied = 0
    try:
        while data := await reader.read(CHUNK):
            copied += len(data)
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, asyncio.IncompleteReadError):
        pass
    return copied


class Hub:
    def __init__(self, *, proxy_address: str, grace: float, heartbeat: float) -> None:
        self.proxy_address = proxy_address  # how Onramp's workers reach this hub
        self.grace, self.heartbeat = grace, heartbeat
        self.agents: dict[str, ControlLink] = {}
        self.pending: dict[str, Pending] = {}
        self.timers: set[asyncio.Task] = set()  # agents gone, waiting out their grace

    async def serve(self, agent_listen: tuple[str, int], proxy_listen: tuple[str, int]) -> None:
        agents = await asyncio.start_server(self.on_agent, *agent_listen, limit=HEAD_LIMIT)
        proxy = await asyncio.start_server(self.on_proxy, *proxy_listen, limit=HEAD_LIMIT)
        logger.warning("agent hub: agents on %s, workers on %s", agent_listen, proxy_listen)
        print("agent hub ready", flush=True)  # what a supervisor (or a test) waits for
        async with agents, proxy:
            await self.beat()

    # Agents' side

    async def on_agent(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            words, headers = await read_head(reader)
        except (TimeoutError, ValueError, OSError, asyncio.IncompleteReadError, LimitOverrun):
            writer.close()
            return
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        upgrade = headers.get("upgrade", "").lower() == "onramp-relay"
        if len(words) != 3 or words[0] != "GET" or not upgrade:
            return await answer(writer, "400 Bad Request")
        if words[1] == "/agent/v1/control":
            return await self.control(token, reader, writer)
        if words[1].startswith("/agent/v1/streams/"):
            return await self.stream(words[1].rsplit("/", 1)[1], token, reader, writer)
        await answer(writer, "404 Not Found")

    async def control(
        self, token: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        agent = await in_thread(agent_authenticate, token=token)
        if agent is None:
            return await answer(writer, "401 Unauthorized", "unknown or revoked agent")
        targets = {(t["host"], int(t["port"])) for t in agent.targets}
        link = ControlLink(agent.id, tokens.digest(token), targets, writer)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: onramp-relay\r\n")
        writer.write(b"Connection: Upgrade\r\n\r\n")  # before any message on the link
        try:
            await writer.drain()
        except OSError:
            return None
        if previous := self.agents.get(agent.id):
            previous.writer.close()  # the agent reconnected: the newest link wins
        # Held before its connections are said to be back, so a call that sees them active
        # finds the agent here.
        self.agents[agent.id] = link
        if not await in_thread(
            presence.agent_connected, agent_id=agent.id, hub=self.proxy_address
        ):
            del self.agents[agent.id]
            writer.close()
            return None
        logger.warning("agent %s connected", agent.id)
        try:
            await self.listen(link, reader)
        finally:
            link.closed.set()
            writer.close()
            if self.agents.get(agent.id) is link:
                del self.agents[agent.id]
                self.timers.add(task := asyncio.create_task(self.offline_later(agent.id)))
                task.add_done_callback(self.timers.discard)

    async def listen(self, link: ControlLink, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
            while line := await reader.readline():
                message = json.loads(line)
                pending = self.pending.get(str(message.get("stream", "")))
                if (
                    message.get("op") == "refused"
                    and pending
                    and pending.agent_id == link.agent_id
                ) and not pending.opened.done():
                    pending.opened.set_exception(PermissionError(message.get("reason", "")))

    async def offline_later(self, agent_id: str) -> None:
        await asyncio.sleep(self.grace)
        if agent_id not in self.agents:
            await in_thread(presence.agent_disconnected, agent_id=agent_id, hub=self.proxy_address)

    async def stream(
        self,
        stream_id: str,
        token: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        pending = self.pending.get(stream_id)
        link = self.agents.get(pending.agent_id) if pending else None
        if not link or not hmac.compare_digest(tokens.digest(token), link.token_digest):
            return await answer(writer, "404 Not Found")
        if pending.opened.done():
            return await answer(writer, "409 Conflict")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: onramp-relay\r\n")
        writer.write(b"Connection: Upgrade\r\n\r\n")
        await writer.drain()
        finished = asyncio.get_running_loop().create_future()
        pending.opened.set_result((reader, writer, finished))
        await finished  # the CONNECT side splices, then closes this stream

    # Onramp's workers' side

    async def on_proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            words, headers = await read_head(reader)
        except (TimeoutError, ValueError, OSError, asyncio.IncompleteReadError, LimitOverrun):
            writer.close()
            return
        if len(words) != 3 or words[0] != "CONNECT":
            return await answer(writer, "405 Method Not Allowed", "CONNECT only")
        host, _, port = words[1].rpartition(":")
        claims = route_token_claims(_basic_password(headers.get("proxy-authorization", "")))
        if not claims or claims.get("target") != words[1] or not port.isdigit():
            return await answer(writer, "407 Proxy Authentication Required")
        link = self.agents.get(str(claims.get("agent")))
        if link is None:
            return await answer(writer, "502 Bad Gateway", "agent offline")
        if (host.strip("[]"), int(port)) not in link.targets:
            return await answer(writer, "403 Forbidden", "not a target of this agent")
        await self.relay(link, host.strip("[]"), int(port), reader, writer)

    async def relay(
        self,
        link: ControlLink,
        host: str,
        port: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        stream_id = secrets.token_urlsafe(18)
        opened = asyncio.get_running_loop().create_future()
        self.pending[stream_id] = Pending(link.agent_id, opened)
        try:
            await link.send({"op": "open", "stream": stream_id, "host": host, "port": port})
            agent_reader, agent_writer, finished = await asyncio.wait_for(opened, OPEN_TIMEOUT)
        except PermissionError as refused:
            return await answer(writer, "502 Bad Gateway", f"agent refused: {refused}"[:200])
        except (TimeoutError, OSError):
            return await answer(writer, "504 Gateway Timeout", "the agent did not open a stream")
        finally:
            self.pending.pop(stream_id, None)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            await asyncio.gather(splice(reader, agent_writer), splice(agent_reader, writer))
        finally:
            agent_writer.close()
            writer.close()
            finished.set_result(None)

    async def beat(self) -> None:
        """Ping each agent and tell the database who is here; drop revoked agents."""
        while True:
            await asyncio.sleep(self.heartbeat)
            held = list(self.agents.values())
            for link in held:
                with contextlib.suppress(OSError):
                    await link.send({"op": "ping"})
            revoked = await in_thread(
                presence.agents_seen, agent_ids=[x.agent_id for x in held], hub=self.proxy_address
            )
            for agent_id in revoked:
                if link := self.agents.pop(agent_id, None):
                    link.writer.close()


def _basic_password(header: str) -> str:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]
