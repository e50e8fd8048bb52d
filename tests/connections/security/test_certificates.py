"""Certificates: generated ones follow NetSuite's rules; uploaded ones are checked."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from connections.security.certificates import CertificateError, check_upload, generate

NOW = datetime.now(UTC)


def self_signed(key, *, days: int = 730, start: datetime | None = None) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    start = start or NOW - timedelta(minutes=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def pem(key, passphrase: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@pytest.mark.parametrize(("kind", "algorithm"), [("ec", "ES256"), ("rsa", "PS256")])
def test_generated_pairs_follow_netsuites_rules(kind, algorithm):
    pair = generate(kind, organization="Northwind")
    certificate = x509.load_pem_x509_certificate(pair.certificate_pem.encode())
    assert pair.algorithm == algorithm
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc <= timedelta(
        days=730
    )
    assert "PRIVATE KEY" not in pair.certificate_pem
    assert pair.fingerprint.count(":") == 31
    checked = check_upload(pair.certificate_pem.encode(), pair.private_key_pem.encode())
    assert checked.fingerprint == pair.fingerprint


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(
    ("command", "algorithm"),
    [
        (
            "openssl req -new -x509 -newkey rsa:4096 -keyout private.pem -sigopt "
            "rsa_padding_mode:pss -sha256 -sigopt rsa_pss_saltlen:64 -out public.pem -nodes "
            "-days 730 -subj /CN=t",
            "PS256",
        ),
        (
            "openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
            "-days 730 -out public.pem -keyout private.pem -subj /CN=t",
            "ES256",
        ),
        (
            "openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes "
            "-days 365 -out public.pem -keyout private.pem -subj /CN=t",
            "ES384",
        ),
    ],
)
def test_the_openssl_commands_we_show_make_acceptable_pairs(tmp_path, command, algorithm):
    subprocess.run(command.split(), cwd=tmp_path, check=True, capture_output=True)
    pair = check_upload(
        (tmp_path / "public.pem").read_bytes(), (tmp_path / "private.pem").read_bytes()
    )
    assert pair.algorithm == algorithm


def test_der_certificates_are_accepted():
    key = ec.generate_private_key(ec.SECP256R1())
    der = x509.load_pem_x509_certificate(self_signed(key)).public_bytes(serialization.Encoding.DER)
    assert check_upload(der, pem(key)).algorithm == "ES256"


def refused(certificate: bytes, key: bytes, passphrase: str = "") -> CertificateError:
    with pytest.raises(CertificateError) as caught:
        check_upload(certificate, key, passphrase)
    return caught.value


def test_rsa_2048_is_refused_with_the_reason():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    error = refused(self_signed(key), pem(key))
    assert "2048" in error.message and "3072 or 4096" in error.message


def test_other_key_types_are_refused():
    key = ed25519.Ed25519PrivateKey.generate()
    assert "P-256" in refused(self_signed(key), pem(key)).message
    weak_curve = ec.generate_private_key(ec.SECP256K1())
    assert "P-256" in refused(self_signed(weak_curve), pem(weak_curve)).message


def test_a_key_from_another_pair_is_refused():
    first, second = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    error = refused(self_signed(first), pem(second))
    assert error.field == "private_key" and "does not belong" in error.message


def test_expired_and_future_certificates_are_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    expired = self_signed(key, days=30, start=NOW - timedelta(days=60))
    assert "expired" in refused(expired, pem(key)).message
    future = self_signed(key, days=30, start=NOW + timedelta(days=2))
    assert "not valid until" in refused(future, pem(key)).message


def test_certificates_longer_than_two_years_are_refused_saying_why():
    key = ec.generate_private_key(ec.SECP256R1())
    error = refused(self_signed(key, days=3650), pem(key))
    assert "3650 days" in error.message and "-days 730" in error.message


def test_encrypted_keys_ask_for_their_passphrase():
    key = ec.generate_private_key(ec.SECP256R1())
    certificate, locked = self_signed(key), pem(key, b"open sesame")
    assert refused(certificate, locked).field == "passphrase"
    assert "passphrase does not open" in refused(certificate, locked, "wrong").message
    assert check_upload(certificate, locked, "open sesame").algorithm == "ES256"


def test_swapped_garbage_and_oversized_files_get_clear_messages():
    key = ec.generate_private_key(ec.SECP256R1())
    certificate, private = self_signed(key), pem(key)
    assert "is a private key" in refused(private, private).message
    assert "is a certificate" in refused(certificate, certificate).message
    assert "not an X.509 certificate" in refused(b"hello", private).message
    assert "not a private key" in refused(certificate, b"hello").message
    assert "too large" in refused(b"x" * 70_000, private).message
