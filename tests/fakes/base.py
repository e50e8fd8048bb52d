"""A local HTTP server that plays a remote system, for tests and benchmarks.

Each fake checks what the real system checks (headers, credentials, expiry) and answers
as it would. It sees the original ``Host`` header, since Onramp's host map keeps it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def host(self) -> str:
        return self.headers.get("host", "").split(":")[0].lower()

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Trick:
    """Misbehaviour for the next request, the way real servers fail: ``stall`` (wait, then
    answer normally), ``hang`` (wait, then hang up without an answer), ``html`` (200 with a
    web page, as ``content_type``; none if empty), ``drip_body`` / ``drip_headers`` (one byte
    every ``interval`` seconds, for ``seconds``)."""

    kind: str
    seconds: float = 30.0
    interval: float = 0.5
    content_type: str = "text/html; charset=utf-8"


class FakeSystem:
    """Subclasses implement ``handle(request) -> Reply``; ``tricks`` are played first.

    ``hosts`` are the host patterns the test host map sends here; ``reset()`` returns the fake
    to its first state between tests (subclasses clear their own state too)."""

    hosts: tuple[str, ...] = ()
    keep_alive = False  # HTTP/1.1 connections kept open between requests, as most servers do

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.tricks: list[Trick] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                fake.requests.append(request)
                trick = fake.tricks.pop(0) if fake.tricks else None
                if trick is not None and trick.kind != "stall":
                    self.close_connection = True  # hang up after it, kept alive or not
                if trick is not None and trick.kind not in ("stall", "hang"):
                    return _misbehave(self, trick)
                if trick is not None:
                    time.sleep(trick.seconds)
                    if trick.kind == "hang":
                        return None
                reply = fake.handle(request)
                with contextlib.suppress(OSError):  # a client that gave up meanwhile
                    self._reply(reply)

            def _reply(self, reply: Reply) -> None:
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    for one in value if isinstance(value, list) else [value]:
                        self.send_header(name, one)  # a list: the header repeated (Set-Cookie)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        if self.keep_alive:
            Handler.protocol_version = "HTTP/1.1"
            Handler.disable_nagle_algorithm = True  # or each answer waits on a delayed ACK

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeSystem:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.requests.clear()
        self.tricks.clear()

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError


HTML_PAGE = b"<!doctype html><html><body><h1>Welcome</h1><form>Sign in</form></body></html>"


def _misbehave(handler: BaseHTTPRequestHandler, trick: Trick) -> None:
    out = handler.wfile
    try:
        if trick.kind == "html":
            handler.send_response(200)
            if trick.content_type:
                handler.send_header("Content-Type", trick.content_type)
            handler.send_header("Content-Length", str(len(HTML_PAGE)))
            handler.end_headers()
            out.write(HTML_PAGE)
            return
        if trick.kind == "drip_body":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            drip, chunk = b" " * 100000, 1
        else:  # drip_headers
            out.write(b"HTTP/1.1 200 OK\r\n")
            drip, chunk = b"X-Slow: " + b"a" * 10000, 1
        _drip(out, drip, chunk, trick)
    except OSError:
        pass  # the client hung up: what a deadline does


def _drip(out: Any, data: bytes, chunk: int, trick: Trick) -> None:
    ends = time.monotonic() + trick.seconds
    for at in range(0, len(data), chunk):
        if time.monotonic() > ends:
            return
        out.write(data[at : at + chunk])
        out.flush()
        time.sleep(trick.interval)
