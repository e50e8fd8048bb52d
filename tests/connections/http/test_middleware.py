"""The middleware every response passes (``http/middleware.py``): a strict Content Security
Policy with a nonce on every page, and a request body larger than allowed refused before it
is read, as a page or as JSON."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from django.test import Client

from tests.factories import link_session


def raw_post(base_url: str, path: str, length: int, headers: str = "") -> tuple[str, float]:
    """Send only the headers of a huge POST; return the server's answer and how long it took."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}"
                f"Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {length}\r\n\r\n--x\r\n"
            ).encode()
        )
        answer = sock.recv(65536)
        took = time.monotonic() - started
        sock.settimeout(1)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass  # the answer is complete; the server waits for the body we never send
    return answer.decode(errors="replace"), took


def test_an_oversized_upload_is_refused_before_it_is_sent(end_user, onramp_server):
    user = end_user()
    path = user.base + "s/netsuite/m2m/certificate/upload/"
    answer, took = raw_post(onramp_server, path, 300 * 1024 * 1024, "HX-Request: true\r\n")
    assert answer.startswith("HTTP/1.1 413") and took < 2
    assert "too large" in answer


def test_oversized_api_bodies_are_refused_with_json(onramp_server, acme):
    auth = f"Authorization: Bearer {acme.secret}\r\n"
    answer, _ = raw_post(onramp_server, "/api/v1/link-sessions", 50 * 1024 * 1024, auth)
    assert answer.startswith("HTTP/1.1 413")
    assert '"code": "request_too_large"' in answer


def test_every_page_has_a_strict_content_security_policy(acme):
    _, token = link_session(acme.partner)
    for url in [f"/connect/{token}/", "/admin/login/", "/api/v1/docs"]:
        policy = Client().get(url)["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in policy
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy


def test_flow_html_has_no_inline_script_without_the_nonce(acme):
    _, token = link_session(acme.partner)
    response = Client().get(f"/connect/{token}/")
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert html.count("<script") == html.count(f'nonce="{nonce}"') - html.count("<style")
