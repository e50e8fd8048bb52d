#!/usr/bin/env python3
"""Onramp agent: lets Onramp reach one business system on your private network.

Read it in full before you run it: it is this one file, Python 3.10+ standard library only.

    python3 onramp-agent.py pair CODE --onramp https://onramp.example.com
    python3 onramp-agent.py run

What it does, and nothing else:
- It only ever opens connections OUTWARD: to Onramp (https, port 443, through the proxy in
  HTTPS_PROXY if set) and to the host and port you allowed when pairing. It listens on no port.
- ``pair`` trades the one-time code shown to your colleague for this agent's token, shows the
  host and port Onramp asks for and the SHA-256 fingerprint of that system's certificate, and
  asks you to allow it. The token and the allowed target are saved in a file only your user
  can read (``--config``).
- ``run`` keeps one control connection to Onramp open (reconnecting by itself with backoff).
  When Onramp asks it to open a stream to the allowed host:port, it connects there and relays
  bytes both ways. Anything else is refused and logged. TLS runs end to end from Onramp to
  your system: the agent relays ciphertext, so it cannot see (and does not log) methods,
  paths, statuses or credentials. Its log (``--log``) records each relay: time, host, port,
  bytes each way and duration; and each refusal.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import random
import socket
import ssl
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlsplit

VERSION = "1"
HOME = os.path.join(os.path.expanduser("~"), ".onramp-agent")
CHUNK = 64 * 1024
MAX_BACKOFF = 60.0


def log(path: str, message: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{stamp} {message}"
    print(line, flush=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


# Reaching Onramp (through HTTPS_PROXY if set)


def _proxy_for(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if urllib.request.proxy_bypass(host):
        return ""
    proxies = urllib.request.getproxies()
    return proxies.get(urlsplit(url).scheme, "")


def _dial(url: str, cafile: str) -> socket.socket:
    """A connection to ``url``'s host: through the proxy's CONNECT if one is set, then TLS
    verified against the system's CAs (or ``cafile``) for https."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = _proxy_for(url)
    if proxy:
        proxy_parts = urlsplit(proxy)
        sock = socket.create_connection((proxy_parts.hostname, proxy_parts.port or 80), 30)
        head = f"CONNECT {parts.hostname}:{port} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\n"
        if proxy_parts.username:
            basic = f"{proxy_parts.username}:{proxy_parts.password or ''}".encode()
            head += f"Proxy-Authorization: Basic {base64.b64encode(basic).decode()}\r\n"
        sock.sendall((head + "\r\n").encode())
        status = _read_head(sock).split(b" ", 2)
        if len(status) < 2 or status[1] != b"200":
            sock.close()
            raise OSError(f"the proxy refused CONNECT: {status[1:2]}")
    else:
        sock = socket.create_connection((parts.hostname, port), 30)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=cafile or None)
        sock = context.wrap_socket(sock, server_hostname=parts.hostname)
    return sock


def _read_head(sock: socket.socket) -> bytes:
    """An HTTP response head, read byte by byte: what follows it stays in the socket."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte or len(head) > 16384:
            raise OSError("connection closed during the response head")
        head += byte
    return head


def upgrade(url: str, token: str, cafile: str) -> socket.socket:
    """``GET url`` with ``Upgrade: onramp-relay``; the socket once Onramp answered 101."""
    parts = urlsplit(url)
    sock = _dial(url, cafile)
    sock.sendall(
        (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nConnection: Upgrade\r\n"
            f"Upgrade: onramp-relay\r\nUser-Agent: onramp-agent/{VERSION}\r\n\r\n"
        ).encode()
    )
    status = _read_head(sock).split(b" ", 2)
    if len(status) < 2 or status[1] != b"101":
        sock.close()
        raise PermissionError(f"Onramp answered {status[1:2]!r}")
    return sock


def post_json(url: str, body: dict, token: str = "", cafile: str = "") -> dict:
    headers = {"Content-Type": "application/json", "User-Agent": f"onramp-agent/{VERSION}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if urlsplit(url).scheme not in ("https", "http"):
        raise OSError(f"not an http(s) address: {url}")
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")  # noqa: S310
    context = ssl.create_default_context(cafile=cafile or None)
    with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
        data = response.read()
    return json.loads(data) if data else {}


# Reaching the allowed system


def resolve(host: str, port: int, overrides: dict) -> str:
    """The address to dial: an override given at pairing (like curl's --resolve), else DNS
    on this network."""
    return overrides.get(f"{host}:{port}") or host


def fingerprint(host: str, port: int, address: str) -> str:
    """SHA-256 of the certificate the system presents (read, not trusted: you confirm it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((address, port), 15) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest()


# pair


def pair(args: argparse.Namespace) -> int:
    overrides = dict(_resolve_option(item) for item in args.resolve)
    onramp = args.onramp.rstrip("/")
    try:
        paired = post_json(onramp + "/agent/v1/pair", {"code": args.code, "name": args.name})
    except OSError as exc:
        print(f"Pairing failed: {exc}", file=sys.stderr)
        return 1
    targets = []
    for target in paired["targets"]:
        host, port = target["host"], int(target["port"])
        address = resolve(host, port, overrides)
        try:
            seen = fingerprint(host, port, address)
        except OSError as exc:
            print(f"Cannot reach {host}:{port} from here ({exc}).", file=sys.stderr)
            return 1
        print(f"Onramp asks this agent to reach {host}:{port} (here: {address}).")
        print(f"Its certificate's SHA-256 fingerprint: {_colons(seen)}")
        if not args.yes and input("Allow it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Not allowed: nothing saved.")
            return 1
        targets.append({"host": host, "port": port, "fingerprint": seen})
    config = {
        "onramp": onramp,
        "hub": paired["hub_url"].rstrip("/"),
        "agent_id": paired["agent_id"],
        "token": paired["token"],
        "targets": targets,
        "resolve": overrides,
    }
    _save(args.config, config)
    post_json(onramp + "/agent/v1/targets", {"targets": targets}, paired["token"])
    print(f"Paired as {paired['agent_id']}; saved to {args.config}. Now run: {sys.argv[0]} run")
    return 0


def _resolve_option(text: str) -> tuple[str, str]:
    host, port, address = text.rsplit(":", 2)
    return f"{host.lower()}:{int(port)}", address


def _colons(hexdigest: str) -> str:
    return ":".join(hexdigest[i : i + 2] for i in range(0, len(hexdigest), 2)).upper()


def _save(path: str, config: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)


# run


class Agent:
    def __init__(self, config: dict, log_path: str, cafile: str) -> None:
        self.config, self.log_path, self.cafile = config, log_path, cafile
        self.allowed = {(t["host"], int(t["port"])) for t in config["targets"]}
        self.control_lock = threading.Lock()

    def run_forever(self) -> None:
        backoff = 1.0
        while True:
            started = time.monotonic()
            try:
                control = upgrade(self.config["hub"] + "/agent/v1/control", *self._auth())
                log(self.log_path, "connected to Onramp")
                self.serve(control)
            except PermissionError as exc:
                log(self.log_path, f"Onramp refused this agent ({exc}); is it revoked?")
            except (OSError, ValueError) as exc:
                log(self.log_path, f"control connection lost: {exc}")
            if time.monotonic() - started > 60:
                backoff = 1.0  # it had been up a while: come back quickly
            time.sleep(backoff + random.uniform(0, backoff / 2))  # noqa: S311 (jitter)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _auth(self) -> tuple[str, str]:
        return self.config["token"], self.cafile

    def serve(self, control: socket.socket) -> None:
        control.settimeout(120)  # the hub pings more often than this
        self.control = control
        reader = control.makefile("rb")
        while line := reader.readline():
            message = json.loads(line)
            if message.get("op") == "ping":
                self.say({"op": "pong"})
            elif message.get("op") == "open":
                threading.Thread(target=self.open, args=(message,), daemon=True).start()
        raise OSError("Onramp closed the control connection")

    def say(self, message: dict) -> None:
        with self.control_lock:
            self.control.sendall(json.dumps(message).encode() + b"\n")

    def open(self, message: dict) -> None:
        host, port, stream = str(message["host"]).lower(), int(message["port"]), message["stream"]
        if (host, port) not in self.allowed:
            log(self.log_path, f"refused host={host} port={port}: not allowed at pairing")
            return self.say({"op": "refused", "stream": stream, "reason": "not allowed"})
        try:
            target = socket.create_connection(
                (resolve(host, port, self.config["resolve"]), port), 15
            )
        except OSError as exc:
            log(self.log_path, f"unreachable host={host} port={port}: {exc}")
            return self.say({"op": "refused", "stream": stream, "reason": "unreachable"})
        try:
            relay = upgrade(f"{self.config['hub']}/agent/v1/streams/{stream}", *self._auth())
        except (OSError, PermissionError) as exc:
            target.close()
            log(self.log_path, f"stream to Onramp failed: {exc}")
            return None
        started = time.monotonic()
        sent, received = _splice_both(relay, target)
        log(
            self.log_path,
            f"relay host={host} port={port} bytes_to_system={sent} "
            f"bytes_from_system={received} seconds={time.monotonic() - started:.2f}",
        )
        return None


def _pump(source: socket.socket, sink: socket.socket, counted: list) -> None:
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
            counted[0] += len(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _splice_both(relay: socket.socket, target: socket.socket) -> tuple[int, int]:
    up, down = [0], [0]
    other = threading.Thread(target=_pump, args=(target, relay, down), daemon=True)
    other.start()
    _pump(relay, target, up)
    other.join()
    relay.close()
    target.close()
    return up[0], down[0]


def run(args: argparse.Namespace) -> int:
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    Agent(config, args.log, args.cafile).run_forever()
    return 0


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onramp-agent", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=os.path.join(HOME, "agent.json"))
    parser.add_argument("--log", default=os.path.join(HOME, "relay.log"))
    parser.add_argument(
        "--cafile", default="", help="CA bundle for Onramp (a TLS-inspecting proxy)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    pairing = commands.add_parser("pair", help="pair with the code shown in Onramp")
    pairing.add_argument("code")
    pairing.add_argument("--onramp", required=True, help="Onramp's address, https://…")
    pairing.add_argument("--name", default=socket.gethostname())
    pairing.add_argument("--yes", action="store_true", help="allow without asking")
    pairing.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDRESS",
        help="dial ADDRESS for HOST:PORT (like curl --resolve), when DNS here does not know it",
    )
    commands.add_parser("run", help="keep the connection to Onramp open and relay")
    args = parser.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    return pair(args) if args.command == "pair" else run(args)


if __name__ == "__main__":
    sys.exit(main())
