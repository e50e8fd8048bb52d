import pytest
from django.core.exceptions import ImproperlyConfigured

from connections.models import Connection, Partner
from connections.security import crypto
from connections.security.crypto import DecryptionError, KeyRing, new_key_spec

AAD = "connections.connection:conn_1:credentials"


def test_round_trip_under_the_newest_key():
    token = crypto.encrypt(b"hunter2", aad=AAD)
    assert crypto.key_id_of(token) == "test2"
    assert b"hunter2" not in token.encode()
    assert crypto.decrypt(token, aad=AAD) == b"hunter2"


def test_same_plaintext_encrypts_differently_each_time():
    assert crypto.encrypt(b"same", aad=AAD) != crypto.encrypt(b"same", aad=AAD)


def test_tampered_ciphertext_fails():
    token = crypto.encrypt(b"hunter2", aad=AAD)
    key_id, _, body = token.partition(":")
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with pytest.raises(DecryptionError):
        crypto.decrypt(f"{key_id}:{flipped}", aad=AAD)


def test_ciphertext_moved_to_another_row_fails():
    first = Connection(id="conn_first", partner=Partner(name="p"))
    second = Connection(id="conn_second", partner=Partner(name="p"))
    token = crypto.seal({"password": "hunter2"}, aad=crypto.associated_data(first, "credentials"))
    assert crypto.unseal(token, aad=crypto.associated_data(first, "credentials")) == {
        "password": "hunter2"
    }
    with pytest.raises(DecryptionError):
        crypto.unseal(token, aad=crypto.associated_data(second, "credentials"))


def test_ciphertext_moved_to_another_field_fails():
    row = Connection(id="conn_x", partner=Partner(name="p"))
    token = crypto.encrypt(b"s", aad=crypto.associated_data(row, "credentials"))
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, aad=crypto.associated_data(row, "config"))


def test_unknown_key_id_refuses(settings):
    token = crypto.encrypt(b"hunter2", aad=AAD)
    settings.ONRAMP_ENCRYPTION_KEYS = new_key_spec("other")
    with pytest.raises(DecryptionError, match="unknown encryption key"):
        crypto.decrypt(token, aad=AAD)


def test_older_keys_still_decrypt(settings):
    old = crypto.encrypt(b"hunter2", aad=AAD)
    settings.ONRAMP_ENCRYPTION_KEYS = new_key_spec("test3") + "," + settings.ONRAMP_ENCRYPTION_KEYS
    assert crypto.key_id_of(crypto.encrypt(b"x", aad=AAD)) == "test3"
    assert crypto.decrypt(old, aad=AAD) == b"hunter2"


@pytest.mark.parametrize("token", ["", "test2:", "test2:not base64!", "test2:QUJD", "nokey"])
def test_malformed_ciphertext_refuses(token):
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, aad=AAD)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "k1:" + "QUJD",
        "bad id!:" + "A" * 44,
        "k1:%%%",
        new_key_spec("k1") + "," + new_key_spec("k1"),
    ],
)
def test_bad_key_ring_is_a_configuration_error(spec):
    with pytest.raises(ImproperlyConfigured):
        KeyRing.parse(spec)


def test_embedded_default_creates_a_private_key_file(settings, tmp_path):
    settings.ONRAMP_ENCRYPTION_KEYS = ""
    settings.ONRAMP_ENCRYPTION_KEY_FILE = str(tmp_path / "keyring")
    token = crypto.encrypt(b"x", aad=AAD)
    assert (tmp_path / "keyring").stat().st_mode & 0o777 == 0o600
    crypto.keyring.cache_clear()
    assert crypto.decrypt(token, aad=AAD) == b"x"  # the same key is read back
