"""The on-premises path as real processes: a stand-in ERPNext on ``127.0.0.5`` (an address
the outbound policy refuses) with a self-signed certificate for ``erp.acme-corp.test`` (a
name no public DNS knows: only the agent's ``--resolve`` maps it, as a customer's own DNS
would), the hub (``manage.py run_agent_hub``) and the agent (``onramp_agent.py``)."""

from __future__ import annotations

import datetime
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes.instances import FakeERPNext
from tests.stack import wait_for

ROOT = Path(__file__).resolve().parents[3]
AGENT = ROOT / "connections" / "agents" / "onramp_agent.py"
INSTANCE_HOST = "erp.acme-corp.test"
STANDIN_ADDRESS = "127.0.0.5"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def self_signed(host: str, directory: Path) -> tuple[Path, Path, str]:
    """A certificate for ``host`` signed by itself: (cert file, key file, SHA-256 hex)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "instance.pem", directory / "instance.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return cert_file, key_file, hashlib.sha256(der).hexdigest()


class StandIn(FakeERPNext):
    """FakeERPNext over TLS, on the private address."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        handler = self.server.RequestHandlerClass
        self.server.server_close()
        cert, key, self.fingerprint = self_signed(INSTANCE_HOST, directory)
        self.server = ThreadingHTTPServer((STANDIN_ADDRESS, 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.users["k1"] = ("s3cr3t-canary-value", "integration@acme.test", True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def site(self) -> str:
        return f"https://{INSTANCE_HOST}:{self.port}"


@dataclass
class Hub:
    listen: str
    proxy: str
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{self.listen}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def start_hub(database: str, **env: str) -> Hub:
    listen, proxy = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "ONRAMP_AGENT_GRACE": "1",
        "ONRAMP_AGENT_HEARTBEAT": "1",
        **env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_agent_hub",
            "--listen",
            listen,
            "--proxy-listen",
            proxy,
        ],
        cwd=ROOT,
        env=environment,
    )
    hub = Hub(listen, proxy, process)
    wait_for(lambda: _answers(listen) and _answers(proxy), 120, "the hub to listen")
    return hub


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class AgentProcess:
    """The agent as its customer's IT runs it, in a directory of its own."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="agent-")))
    process: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.directory / "agent.json"

    @property
    def log(self) -> Path:
        return self.directory / "relay.log"

    def _args(self) -> list[str]:
        return [sys.executable, str(AGENT), "--config", str(self.config), "--log", str(self.log)]

    def pair(self, code: str, onramp: str, *resolve: str) -> subprocess.CompletedProcess:
        options = [arg for item in resolve for arg in ("--resolve", item)]
        return subprocess.run(
            [*self._args(), "pair", code, "--onramp", onramp, "--yes", *options],
            capture_output=True,
            text=True,
            timeout=120,
            env=_no_proxy_env(),
        )

    def run(self) -> AgentProcess:
        self.process = subprocess.Popen(
            [*self._args(), "run"], stdout=subprocess.DEVNULL, env=_no_proxy_env()
        )
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def _no_proxy_env() -> dict[str, str]:
    drop = {"http_proxy", "https_proxy", "all_proxy"}
    return {k: v for k, v in os.environ.items() if k.lower() not in drop}
