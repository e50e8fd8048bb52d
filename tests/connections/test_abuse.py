"""Attacks on the flow and the API that cost us or a customer's system: expensive keys,
racing submits, shared budgets, repeated expensive actions, oversized bodies, spoofed IPs."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.test import Client

from connections.models import LinkSession, SigningKey, ValidationAttempt
from tests.conftest import HTMX
from tests.factories import connected, link_session
from tests.keys import EC_P256, hostile_pkcs8, openssl_pair, openssl_scrypt, scrypt_pkcs8

MINTSOFT_DETAILS = "s/mintsoft/login/details/"
needs_postgres = pytest.mark.skipif(
    not django_settings.USING_POSTGRES,
    reason="parallel requests need PostgreSQL (SQLite serialises writers)",
)


# --- 1. key-derivation work in uploaded keys --------------------------------------------------


@pytest.mark.parametrize(
    "work",
    [
        {"kdf": "pbkdf2", "cost": 2**31 - 1},
        {"kdf": "pbkdf2", "cost": 1_000_001},
        {"kdf": "pbes1", "cost": 2**31 - 1},
        {"kdf": "scrypt", "cost": 2**21},
        {"kdf": "scrypt", "cost": 2**20, "r": 8, "p": 1},  # 1 GiB and 10 s or more
        {"kdf": "scrypt", "cost": 2, "r": 1, "p": 2**22},  # no memory, seconds of CPU
        {"kdf": "scrypt", "cost": 2**14, "r": 64, "p": 1},  # 128 MiB through r
        {"kdf": "scrypt", "cost": 2**16, "r": 1, "p": 1},
        {"kdf": "unknown", "cost": 1},
    ],
    ids=lambda work: "-".join(f"{key}={value}" for key, value in work.items()),
)
def test_costly_key_encryption_is_refused_at_once_while_the_server_keeps_serving(
    end_user, onramp_server, tmp_path, work
):
    user = end_user()
    public, _ = openssl_pair(tmp_path, EC_P256)
    upload_url = onramp_server + user.base + "s/netsuite/m2m/certificate/upload/"
    results: dict[str, object] = {}

    def upload() -> None:
        started = time.monotonic()
        files = {
            "certificate": ("public.pem", public.read_bytes()),
            "private_key": ("private.pem", hostile_pkcs8(**work)),
        }
        response = requests.post(
            upload_url, files=files, data={"passphrase": "x"}, headers=HTMX, timeout=10
        )
        results["upload"] = (response, time.monotonic() - started)

    uploading = threading.Thread(target=upload)
    uploading.start()
    other = requests.get(onramp_server + user.base, timeout=5)
    uploading.join(15)
    response, took = results["upload"]
    assert other.status_code == 200
    assert response.status_code == 422 and took < 1.0
    assert "openssl pkey" in response.text  # says how to export the key instead
    assert not SigningKey.objects.exists()


@pytest.mark.parametrize(
    "work",
    [
        {"kdf": "scrypt", "cost": 3},  # N must be a power of two
        {"kdf": "scrypt", "cost": 0},
        {"kdf": "scrypt", "cost": 1},
        {"kdf": "scrypt", "cost": 2**14, "r": 0},
        {"kdf": "scrypt", "cost": 2**14, "p": 0},
        {"kdf": "scrypt", "cost": 2**63 - 1, "r": 1},
        {"kdf": "scrypt", "cost": 2**64},  # more than eight bytes
        {"kdf": "pbkdf2", "cost": 0},
        {"kdf": "pbes1", "cost": 0},
    ],
    ids=lambda work: "-".join(f"{key}={value}" for key, value in work.items()),
)
def test_malformed_key_encryption_settings_get_the_unreadable_key_message(
    end_user, onramp_server, tmp_path, work
):
    user = end_user()
    public, _ = openssl_pair(tmp_path, EC_P256)
    response = requests.post(
        onramp_server + user.base + "s/netsuite/m2m/certificate/upload/",
        files={
            "certificate": ("public.pem", public.read_bytes()),
            "private_key": ("private.pem", hostile_pkcs8(**work)),
        },
        data={"passphrase": "x"},
        headers=HTMX,
        timeout=30,
    )
    assert response.status_code == 422
    assert "This encrypted private key could not be read. Export it again." in response.text
    assert not SigningKey.objects.exists()


@pytest.mark.parametrize(
    ("scrypt", "accepted"),
    [
        ({}, True),  # OpenSSL's command line, its defaults
        ({"n": 2**15}, True),
        ({"n": 2**15, "r": 4, "p": 1}, True),
        ({"n": 2**16}, False),
        ({"n": 2**14, "r": 16}, False),
        ({"n": 2**14, "p": 2}, False),
    ],
    ids=str,
)
def test_keys_encrypted_with_scrypt_are_accepted_within_the_caps_and_refused_beyond(
    end_user, onramp_server, tmp_path, scrypt, accepted
):
    public, private = openssl_pair(tmp_path, EC_P256)
    locked = scrypt_pkcs8(private, "pw", **scrypt) if scrypt else openssl_scrypt(private, "pw")
    user = end_user()
    started = time.monotonic()
    response = requests.post(
        onramp_server + user.base + "s/netsuite/m2m/certificate/upload/",
        files={
            "certificate": ("public.pem", public.read_bytes()),
            "private_key": ("private.pem", locked),
        },
        data={"passphrase": "pw"},
        headers=HTMX,
        timeout=30,
    )
    if accepted:
        assert response.status_code == 200 and "Certificate ready" in response.text
        assert SigningKey.objects.count() == 1
    else:
        assert response.status_code == 422 and "openssl pkey" in response.text
        assert time.monotonic() - started < 1.0 and not SigningKey.objects.exists()


def test_a_key_encrypted_with_standard_settings_is_accepted(end_user, tmp_path):
    import subprocess

    public, private = openssl_pair(tmp_path, EC_P256)
    subprocess.run(
        [
            *("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "100000"),
            *("-in", str(private), "-out", str(tmp_path / "locked.pem"), "-passout", "pass:pw"),
        ],
        check=True,
    )
    user = end_user()
    response = user.post(
        "s/netsuite/m2m/certificate/upload/",
        {
            "certificate": public.open("rb"),
            "private_key": (tmp_path / "locked.pem").open("rb"),
            "passphrase": "pw",
        },
        headers=HTMX,
    )
    assert response.status_code == 200 and "Certificate ready" in response.content.decode()


# --- 2. one attempt in flight per session -------------------------------------------------------


@needs_postgres
def test_parallel_wrong_passwords_never_exceed_the_failure_limit(
    end_user, onramp_server, fake_systems, settings
):
    settings.ONRAMP_SESSION_MAX_FAILURES = 3
    settings.ONRAMP_VALIDATIONS_PER_END_USER_MINUTE = 100
    user = end_user()
    url = onramp_server + user.base + MINTSOFT_DETAILS

    def submit(_: int) -> int:
        form = {"username": "ops", "password": "wrong"}
        return requests.post(url, data=form, allow_redirects=False, timeout=20).status_code

    statuses = []
    with ThreadPoolExecutor(max_workers=20) as pool:
        for _ in range(6):  # waves of 20 at once, as a script would send them
            statuses += pool.map(submit, range(20))
    sign_ins = [r for r in fake_systems.mintsoft.requests if r.path == "/api/Auth"]
    assert len(sign_ins) == 3
    assert ValidationAttempt.objects.count() == 3
    assert set(statuses) == {303, 403}  # to the attempt in flight, or "this link is locked"
    assert LinkSession.objects.get().locked_at is not None


def test_the_database_refuses_a_second_attempt_in_flight(acme):
    session, _ = link_session(acme.partner)
    ValidationAttempt.objects.create(link_session=session, system_slug="mintsoft", method="login")
    with pytest.raises(IntegrityError), transaction.atomic():
        ValidationAttempt.objects.create(
            link_session=session, system_slug="mintsoft", method="login", status="running"
        )


def test_a_second_submit_while_one_is_queued_shows_that_one(end_user, fake_systems):
    user = end_user()
    form = {"username": "ops", "password": "pw"}
    first = user.post(MINTSOFT_DETAILS, form)  # the worker has not run yet
    second = user.post(MINTSOFT_DETAILS, form)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert ValidationAttempt.objects.count() == 1


# --- 3. validation budgets: per end user, per partner and host, then per host ---------------


def submit_mintsoft(partner, end_user_id: str) -> int:
    _, token = link_session(partner, end_user_id=end_user_id)
    form = {"username": "ops", "password": "wrong"}
    return Client().post(f"/connect/{token}/{MINTSOFT_DETAILS}", form).status_code


@pytest.fixture
def tight_limits(settings, fake_systems):
    settings.ONRAMP_VALIDATIONS_PER_END_USER_MINUTE = 2
    settings.ONRAMP_VALIDATIONS_PER_HOST_MINUTE = 4
    settings.ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL = 6
    return settings


def test_one_end_user_cannot_spend_another_end_users_budget(acme, tight_limits):
    statuses = [submit_mintsoft(acme.partner, "mallory") for _ in range(5)]
    assert statuses == [303, 303, 429, 429, 429]
    assert submit_mintsoft(acme.partner, "alice") == 303


def test_one_partner_cannot_block_a_shared_host_for_other_partners(acme, tight_limits):
    from connections.services.partners import partner_create

    other, _ = partner_create(name="Globex", origins=[], actor="test")
    acme_statuses = [submit_mintsoft(acme.partner, f"user-{n}") for n in range(6)]
    assert acme_statuses == [303] * 4 + [429] * 2
    assert submit_mintsoft(other, "someone") == 303
    assert submit_mintsoft(other, "someone-else") == 303
    # The remote's own ceiling (6 a minute for everyone) holds across partners.
    assert submit_mintsoft(other, "a-third") == 429


def test_a_refusal_says_when_to_come_back(acme, end_user, tight_limits):
    for _ in range(2):
        submit_mintsoft(acme.partner, "mallory")
    user = end_user(end_user_id="mallory")
    form = {"username": "ops", "password": "wrong"}
    refused = user.post(MINTSOFT_DETAILS, form, headers=HTMX)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "Wait a minute" in refused.content.decode()


# --- 4. throttles on expensive actions ----------------------------------------------------------


def test_certificate_generation_is_throttled_and_keeps_one_key(end_user, settings, rate_clock):
    user = end_user()
    url = "s/netsuite/m2m/certificate/generate/"
    statuses = [user.post(url, {"kind": "ec"}, headers=HTMX) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2]["Retry-After"]) <= 60
    assert "Wait a moment" in statuses[2].content.decode()
    assert SigningKey.objects.count() == 1  # the older, unused key is gone
    rate_clock(61)
    assert user.post(url, {"kind": "ec"}, headers=HTMX).status_code == 200


def test_revalidation_is_throttled_per_connection(
    acme, api, fake_systems, django_capture_on_commit_callbacks, rate_clock
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, _ = connected(acme.partner)
    path = f"/api/v1/connections/{connection.id}/revalidate"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(path).status_code == 202
    again = api.post(path)
    assert again.status_code == 429 and int(again["Retry-After"]) <= 60
    assert again.json()["error"]["code"] == "rate_limited"
    rate_clock(61)
    assert api.post(path).status_code == 202


def test_a_revalidation_in_flight_is_returned_not_repeated(acme, api, rate_clock):
    connection, _ = connected(acme.partner)
    path = f"/api/v1/connections/{connection.id}/revalidate"
    first = api.post(path).json()  # on_commit never runs here: it stays queued
    rate_clock(61)
    second = api.post(path).json()
    assert first["attempt_id"] == second["attempt_id"]


# --- 5. request bodies ------------------------------------------------------------------------


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


# --- client IPs behind proxies ---------------------------------------------------------------


def submit_from(acme, forwarded_for: str) -> int:
    _, token = link_session(acme.partner, end_user_id=forwarded_for)
    form = {"username": "ops", "password": "wrong"}
    client = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded_for)
    return client.post(f"/connect/{token}/{MINTSOFT_DETAILS}", form).status_code


@pytest.mark.parametrize("trusted", ["1", "10.0.0.0/8"])
def test_behind_a_trusted_proxy_each_client_has_its_own_ip_budget(
    acme, fake_systems, settings, trusted
):
    settings.ONRAMP_VALIDATIONS_PER_IP_HOUR = 1
    settings.ONRAMP_TRUSTED_PROXIES = trusted
    assert submit_from(acme, "203.0.113.7") == 303
    assert submit_from(acme, "203.0.113.7") == 429
    assert submit_from(acme, "198.51.100.9") == 303


def test_without_trusted_proxies_a_forged_header_changes_nothing(acme, fake_systems, settings):
    settings.ONRAMP_VALIDATIONS_PER_IP_HOUR = 1
    assert submit_from(acme, "203.0.113.7") == 303
    assert submit_from(acme, "198.51.100.9") == 429  # both are 10.0.0.5 to us
