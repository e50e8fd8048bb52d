"""A chunked request body (``Transfer-Encoding: chunked``, no ``Content-Length``) to the
proxy is read whole on gunicorn, which ends the chunked input itself
(``wsgi.input_terminated``), up to ``ONRAMP_PROXY_MAX_REQUEST_BYTES`` (413 beyond); where the
server does not end it (the development server, the test client) it is refused with 411.
Never forwarded empty, as Django alone would (it reads by ``Content-Length`` only)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from tests.factories import connected

INFOPLUS = "infoplus-wms/api/v3.0/lineOfBusiness/search"


@pytest.fixture
def infoplus(acme, fake_systems):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    return connected(acme.partner)


@pytest.mark.django_db
def test_a_chunked_body_the_server_does_not_end_is_refused(infoplus, fake_systems):
    _, token = infoplus
    client = Client(headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"})
    response = client.post(
        f"/api/v1/proxy/{INFOPLUS}",
        data=b'{"q": 1}',
        content_type="application/json",
        CONTENT_LENGTH="",  # as a chunked request arrives: no length
    )
    assert response.status_code == 411
    assert response.json()["error"]["code"] == "length_required"
    assert fake_systems.infoplus.requests == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chunked_bodies_on_gunicorn_are_read_whole_up_to_the_cap(stack, infoplus, fake_systems):
    _, token = infoplus
    web = stack.gunicorn(ONRAMP_PROXY_MAX_REQUEST_BYTES="4096", WEB_CONCURRENCY="1")
    url = f"{web}/api/v1/proxy/{INFOPLUS}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    parts = [b'{"lines": ["', b"x" * 2000, b'", "', b"y" * 2000, b'"]}']
    sent = requests.post(url, data=iter(parts), headers=headers, timeout=60)
    assert sent.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in sent.request.headers
    assert sent.status_code == 404  # the remote's own answer to a POST there
    assert [r.body for r in fake_systems.infoplus.requests] == [b"".join(parts)]

    too_large = requests.post(url, data=iter([b"z" * 3000] * 2), headers=headers, timeout=60)
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "request_too_large"
    assert len(fake_systems.infoplus.requests) == 1  # nothing more reached the remote

    broken = raw_post(web, INFOPLUS, token, b"zz\r\nnot a chunk size\r\n0\r\n\r\n")
    assert broken.startswith(b"HTTP/1.1 400 ") and b"invalid_body" in broken
    assert len(fake_systems.infoplus.requests) == 1


def raw_post(base_url: str, path: str, token: str, chunked: bytes) -> bytes:
    """A chunked POST written by hand (for framing no client library would send)."""
    address = urlsplit(base_url)
    head = (
        f"POST /api/v1/proxy/{path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(head.encode() + chunked)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    return answer
