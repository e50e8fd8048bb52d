import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest

from connections.outbound import client as outbound
from connections.outbound.addresses import is_local_url
from connections.outbound.errors import OutboundError
from connections.outbound.hostmap import parse_host_map
from tests.conftest import ROOT
from tests.fakes.base import FakeSystem, Reply, Request, Trick


class Listener:
    """A TCP listener that only counts who connects to it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.sock.close()


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.close()


@pytest.fixture
def listener6():
    running = Listener("::1")
    yield running
    running.close()


SSRF_URLS = [
    # loopback, in every spelling
    "https://127.0.0.1:{port}/",
    "https://127.1:{port}/",
    "https://127.000.000.001:{port}/",
    "https://2130706433:{port}/",
    "https://0x7f000001:{port}/",
    "https://0x7f.0.0.1:{port}/",
    "https://0177.0.0.1:{port}/",
    "https://localhost:{port}/",
    "https://LOCALHOST:{port}/",
    "https://localhost.:{port}/",
    "https://0.0.0.0:{port}/",
    "https://0:{port}/",
    "https://[::ffff:127.0.0.1]:{port}/",
    "https://[::ffff:7f00:1]:{port}/",
    "https://[0:0:0:0:0:ffff:127.0.0.1]:{port}/",
    # metadata services
    "https://169.254.169.254/latest/meta-data/",
    "https://169.254.170.2/v2/credentials",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://100.100.100.200/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    # private, shared and reserved ranges
    "https://10.0.0.1/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://198.18.0.1/",
    "https://240.0.0.1/",
    "https://224.0.0.1/",
    "https://255.255.255.255/",
    "https://192.0.0.1/",
    # IPv6 forms
    "https://[::]:{port}/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://[ff02::1]/",
    "https://[2002:7f00:1::]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[::127.0.0.1]:{port}/",
    # userinfo and parsing tricks
    "https://user:pass@127.0.0.1:{port}/",
    "https://example.com@127.0.0.1:{port}/",
    "https://127.0.0.1:{port}#@example.com/",
    "https://127.0.0.1:{port}\\@example.com/",
    "https://127.0.0.1%2f@example.com:{port}/",
    # schemes other than https
    "http://127.0.0.1:{port}/",
    "http://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_",
    "ftp://127.0.0.1:{port}/",
    "dict://127.0.0.1:{port}/",
    "//127.0.0.1:{port}/",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("template", SSRF_URLS)
def test_dangerous_addresses_are_refused_without_a_connection(template, listener, listener6):
    url = template.format(port=listener.port)
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", url)
    assert refused.value.code in {"invalid_url", "forbidden_address", "host_not_found"}
    url6 = template.format(port=listener6.port)
    with pytest.raises(OutboundError):
        outbound.request("GET", url6)
    time.sleep(0.05)
    assert listener.hits == 0
    assert listener6.hits == 0


@pytest.mark.parametrize("template", SSRF_URLS)
def test_allowing_local_urls_opens_this_machine_and_nothing_else(template, listener, listener6):
    """A test endpoint's webhooks (development) may reach localhost; every other address in
    the list is refused as before, without a connection."""
    url = template.format(port=listener.port)
    if is_local_url(url):
        assert urlsplit(url).hostname.rstrip(".") in ("localhost", "127.0.0.1", "::ffff:127.0.0.1")
        return
    with pytest.raises(OutboundError):
        outbound.request("GET", url, allow_local=True)
    with pytest.raises(OutboundError):
        outbound.request("GET", template.format(port=listener6.port), allow_local=True)
    time.sleep(0.05)
    assert listener.hits == 0 and listener6.hits == 0


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:4000/hooks", True),
        ("http://LOCALHOST.:4000/", True),
        ("https://127.0.0.1/", True),
        ("http://127.8.9.10:80/", True),
        ("http://[::1]:4000/", True),
        ("http://localhost.acme.test/", False),
        ("http://127.0.0.1.nip.io/", False),
        ("http://me@localhost/", False),
        ("http://10.0.0.1/", False),
        ("http://0.0.0.0:4000/", False),
        ("ftp://localhost/", False),
        ("http://localhost:99999/", False),
        ("http://localhost:0/", False),
    ],
)
def test_what_counts_as_this_machine(url, local):
    assert is_local_url(url) is local


def test_a_name_resolving_to_loopback_is_refused_after_resolution(monkeypatch, listener):
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "rebind.example.com":
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", f"https://rebind.example.com:{listener.port}/")
    assert refused.value.code == "forbidden_address"
    assert listener.hits == 0


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, listener):
    """DNS rebinding: the first answer is public, a later one loopback. Only the checked,
    public address may be dialled."""
    real = socket.getaddrinfo
    answers = iter(["192.0.2.10", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    dialled = []

    def resolve(host, *args, **kwargs):
        if host == "rebind.example.com":
            return real(next(answers), *args, **kwargs)
        dialled.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(
        "requests_hardened.ip_filter._is_ip_in_extra_blocked_ranges", lambda ip: False
    )
    monkeypatch.setattr("ipaddress.IPv4Address.is_private", property(lambda self: False))
    # 192.0.2.10 is a documentation address: let it pass as public for this test.
    monkeypatch.setattr(outbound, "is_public_address", lambda ip: str(ip) == "192.0.2.10")
    with pytest.raises(OutboundError):
        outbound.request("GET", f"https://rebind.example.com:{listener.port}/")
    assert listener.hits == 0
    assert "192.0.2.10" in dialled


class Scripted(FakeSystem):
    def __init__(self) -> None:
        super().__init__()
        self.reply = Reply(200, {"ok": True})
        self.delay = 0.0

    def handle(self, request: Request) -> Reply:
        time.sleep(self.delay)
        return self.reply


@pytest.fixture(scope="module")
def scripted():
    fake = Scripted().start()
    yield fake
    fake.stop()


@pytest.fixture
def mapped(scripted, settings):
    scripted.reply, scripted.delay = Reply(200, {"ok": True}), 0.0
    scripted.requests.clear()
    scripted.tricks.clear()
    settings.ONRAMP_OUTBOUND_HOST_MAP = f"*.erp.example.com={scripted.url}"
    return scripted


def test_host_map_reaches_the_simulator_with_the_original_host(mapped):
    response = outbound.request(
        "GET", "https://acme.erp.example.com/api/ping?x=1", headers={"X-Test": "1"}
    )
    assert response.status == 200
    assert response.json() == {"ok": True}
    seen = mapped.requests[-1]
    assert seen.host == "acme.erp.example.com"
    assert seen.path == "/api/ping"
    assert seen.query == {"x": ["1"]}
    assert seen.headers["x-test"] == "1"
    assert seen.headers["user-agent"].startswith("Onramp/")


def test_host_map_only_covers_its_pattern(mapped, listener):
    with pytest.raises(OutboundError):
        outbound.request("GET", f"https://127.0.0.1:{listener.port}/")
    assert listener.hits == 0


def test_redirects_are_returned_not_followed(mapped):
    mapped.reply = Reply(302, None, {"Location": "https://acme.erp.example.com/elsewhere"})
    response = outbound.request("GET", "https://acme.erp.example.com/start")
    assert response.status == 302
    assert [r.path for r in mapped.requests] == ["/start"]


def test_oversized_responses_are_cut_off(mapped, settings):
    settings.ONRAMP_OUTBOUND_MAX_BYTES = 1000
    mapped.reply = Reply(200, "x" * 5000)
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", "https://acme.erp.example.com/big")
    assert refused.value.code == "response_too_large"


def test_slow_systems_time_out(mapped, settings):
    settings.ONRAMP_OUTBOUND_READ_TIMEOUT = 0.3
    mapped.delay = 1.0
    started = time.monotonic()
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", "https://acme.erp.example.com/slow")
    assert refused.value.code == "timeout"
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("kind", ["drip_body", "drip_headers"])
def test_the_total_deadline_holds_against_a_dripping_remote(mapped, settings, kind):
    """One byte every 0.2 s never trips a 3 s read timeout; the 2 s deadline still holds."""
    settings.ONRAMP_OUTBOUND_READ_TIMEOUT = 3.0
    settings.ONRAMP_OUTBOUND_DEADLINE = 2.0
    mapped.tricks.append(Trick(kind, seconds=30, interval=0.2))
    started = time.monotonic()
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", "https://acme.erp.example.com/drip")
    assert refused.value.code == "timeout"
    assert time.monotonic() - started <= 2.0 + 1.0


def test_a_kept_alive_connection_keeps_the_deadline_too(mapped, settings):
    settings.ONRAMP_OUTBOUND_DEADLINE = 2.0
    with outbound.Client() as client:
        assert client.request("GET", "https://acme.erp.example.com/one").status == 200
        mapped.tricks.append(Trick("drip_body", seconds=30, interval=0.2))
        started = time.monotonic()
        with pytest.raises(OutboundError):
            client.request("GET", "https://acme.erp.example.com/two")
        assert time.monotonic() - started <= 3.0


def test_proxies_from_the_environment_are_ignored(mapped, listener, monkeypatch):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    assert outbound.request("GET", "https://acme.erp.example.com/").status == 200
    assert listener.hits == 0


def test_unknown_hosts_say_so(settings):
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", "https://no-such-host.invalid/")
    assert refused.value.code == "host_not_found"
    assert "no-such-host.invalid" in refused.value.message


@pytest.mark.parametrize("spec", ["nohost", "*.x.com=ftp://a", "=http://a:1", "*.x.com=http://"])
def test_bad_host_map_entries_are_refused(spec):
    with pytest.raises(ValueError):
        parse_host_map(spec)


@pytest.mark.slow
def test_settings_refuse_the_host_map_in_production():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "ONRAMP_OUTBOUND_HOST_MAP": "*.x.com=http://127.0.0.1:1",
    }
    env.pop("ONRAMP_ALLOW_HOST_MAP", None)
    script = "import config.settings"
    refused = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "ONRAMP_ALLOW_HOST_MAP" in refused.stderr
    env["ONRAMP_ALLOW_HOST_MAP"] = "1"
    allowed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert allowed.returncode == 0, allowed.stderr
