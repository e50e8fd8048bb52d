"""Business Central on-premises with the Windows credential type: NTLM over HTTP, bound to
the TCP connection as Windows servers do (a Type 1 message, the server's challenge, a Type 3
message on the same connection; then that connection is authenticated). The server side is
pyspnego's NTLM acceptor, so the messages are checked as Windows checks them."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import spnego

from tests.fakes.base import Request


class FakeBusinessCentralWindows:
    hosts = ("bc.acme.test",)
    users_file = ""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.reset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates the connection
            context: Any = None
            authenticated = False

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(Request("GET", self.path, {}, headers, b""))
                if not self.authenticated:
                    self._negotiate(headers.get("authorization", ""))
                    return
                self._answer()

            def _negotiate(self, authorization: str) -> None:
                scheme, _, token = authorization.partition(" ")
                if scheme.upper() != "NTLM" or not token:
                    return self._reply(401, None, {"WWW-Authenticate": "NTLM"})
                if self.context is None:
                    os.environ["NTLM_USER_FILE"] = fake.users_file
                    self.context = spnego.server(protocol="ntlm")
                try:
                    answer = self.context.step(base64.b64decode(token))
                except spnego.exceptions.SpnegoError:
                    self.context = None
                    return self._reply(401, None, {"WWW-Authenticate": "NTLM"})
                if not self.context.complete:
                    challenge = "NTLM " + base64.b64encode(answer).decode()
                    return self._reply(401, None, {"WWW-Authenticate": challenge})
                self.authenticated = True
                self._answer()

            def _answer(self) -> None:
                if self.path.startswith("/BC/api/v2.0/companies"):
                    return self._reply(200, {"value": [{"name": "CRONUS"}]})
                return self._reply(404, {"error": {"code": "BadRequest_NotFound"}})

            def _reply(self, status: int, body: Any, headers: dict | None = None) -> None:
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def users(self, *entries: str) -> None:
        """``DOMAIN:user:password`` lines: who may sign in."""
        with open(self.users_file, "w") as handle:
            handle.write("\n".join(entries) + "\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeBusinessCentralWindows:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.requests.clear()
        self.users_file = tempfile.mkstemp(prefix="ntlm-users-")[1]
