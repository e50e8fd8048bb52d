"""Encrypted private keys dropped in the flow (``security/pkcs8.py``): key-derivation work
beyond the caps, or settings that make no sense, are refused at once while the server keeps
serving; keys OpenSSL encrypts with its usual settings are accepted."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from connections.models import SigningKey
from tests.end_user import HTMX
from tests.keys import EC_P256, hostile_pkcs8, openssl_pair, openssl_scrypt, scrypt_pkcs8


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
