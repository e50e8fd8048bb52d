"""Key pairs and X.509 certificates for certificate-based auth (NetSuite OAuth 2.0 M2M).

Onramp either generates the pair (the private key never leaves the server; the caller
encrypts it at once) or checks a pair the customer made with OpenSSL. NetSuite's rules:
RSA 3072/4096 or EC P-256/P-384/P-521, validity at most two years; RSA signs with PSS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _

from connections.security import pkcs8

MAX_PEM_BYTES = 64 * 1024
MAX_VALIDITY = timedelta(days=730)
CLOCK_LEEWAY = timedelta(minutes=5)
RSA_SIZES = (3072, 4096)
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
KINDS = ("ec", "rsa")  # what "Generate for me" offers: EC P-256 (default) or RSA 4096

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CertificateError(ValueError):
    """A certificate or key that cannot be used; ``field`` names the input to fix."""

    def __init__(self, message: str, field: str = "certificate") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str  # unencrypted PKCS#8: encrypt it at rest before storing
    certificate_pem: str
    algorithm: str  # the JWT "alg" this key signs with
    fingerprint: str  # SHA-256 of the certificate, as NetSuite and OpenSSL show it
    not_after: datetime


def generate(kind: str = "ec", *, organization: str = "", now: datetime | None = None) -> KeyPair:
    """A new key pair and a self-signed certificate valid for 730 days."""
    key: PrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if kind == "ec"
        else rsa.generate_private_key(public_exponent=65537, key_size=4096)
    )
    start = (now or datetime.now(UTC)) - CLOCK_LEEWAY
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Onramp NetSuite integration")]
        + (
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64])]
            if organization
            else []
        )
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + MAX_VALIDITY)
    )
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    certificate = builder.sign(
        key, hashes.SHA256(), rsa_padding=pss if isinstance(key, rsa.RSAPrivateKey) else None
    )
    return _pair(key, certificate)


def check_upload(
    certificate_data: bytes, key_data: bytes, passphrase: str = "", now: datetime | None = None
) -> KeyPair:
    """Check a customer's certificate and private key as NetSuite would, and more."""
    now = now or datetime.now(UTC)
    certificate = _load_certificate(certificate_data)
    key = _load_private_key(key_data, passphrase)
    jwt_algorithm(key)  # refuses disallowed key types and sizes
    if _public_der(certificate.public_key()) != _public_der(key.public_key()):
        raise CertificateError(
            _(
                "This private key does not belong to this certificate. Upload "
                "the key made together with it."
            ),
            field="private_key",
        )
    _check_dates(certificate, now)
    return _pair(key, certificate)


def jwt_algorithm(key: object) -> str:
    """The JWT algorithm for a key; refuses what NetSuite refuses, saying why."""
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size not in RSA_SIZES:
            raise CertificateError(
                _(
                    "This RSA key has %(bits)d bits. NetSuite accepts only 3072 or 4096-bit RSA "
                    "keys (2048-bit keys are refused): make a new one with rsa:4096."
                )
                % {"bits": key.key_size},
                field="private_key",
            )
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in EC_ALGORITHMS:
        return EC_ALGORITHMS[key.curve.name]
    raise CertificateError(
        _("NetSuite accepts RSA keys of 3072 or 4096 bits, or EC keys on P-256, P-384 or P-521."),
        field="private_key",
    )


def load_private_key(pem: str) -> PrivateKey:
    """Load a key Onramp stored (always unencrypted PKCS#8, decrypted from rest)."""
    return serialization.load_pem_private_key(pem.encode(), password=None)  # type: ignore[return-value]


def _load_certificate(data: bytes) -> x509.Certificate:
    if len(data) > MAX_PEM_BYTES:
        raise CertificateError(_("The certificate file is too large (at most 64 KiB)."))
    if b"PRIVATE KEY-----" in data:
        raise CertificateError(
            _(
                "This file is a private key. Upload the certificate "
                "(public.pem) here and the private key below."
            )
        )
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError(
            _("This is not an X.509 certificate. Upload the public.pem file that OpenSSL wrote.")
        ) from None


def _load_private_key(data: bytes, passphrase: str) -> PrivateKey:
    if len(data) > MAX_PEM_BYTES:
        raise CertificateError(
            _("The private key file is too large (at most 64 KiB)."), field="private_key"
        )
    if b"BEGIN CERTIFICATE" in data:
        raise CertificateError(
            _("This file is a certificate, not a private key. Upload private.pem here."),
            field="private_key",
        )
    _refuse_costly_encryption(data)
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode() or None)
    except TypeError:
        raise CertificateError(
            _("This private key is encrypted: enter its passphrase.")
            if not passphrase
            else _("This private key is not encrypted: leave the passphrase empty."),
            field="passphrase",
        ) from None
    except ValueError:
        message = (
            _("The passphrase does not open this private key.")
            if passphrase
            else _("This is not a private key in PEM format. Upload private.pem.")
        )
        raise CertificateError(
            message, field="passphrase" if passphrase else "private_key"
        ) from None
    except UnsupportedAlgorithm:
        raise CertificateError(
            _(
                "This key type is not supported. Make the key with "
                "-newkey rsa:4096 or with an EC curve."
            ),
            field="private_key",
        ) from None
    except InternalError:  # OpenSSL refused parameters we do not check ourselves
        raise _unreadable_key() from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        jwt_algorithm(key)
    return key  # type: ignore[return-value]


def _refuse_costly_encryption(data: bytes) -> None:
    """Refuse a key whose passphrase would cost us more work than any honest tool asks for."""
    try:
        factors = pkcs8.work_factors(data)
    except pkcs8.UnreadableKey:
        raise _unreadable_key() from None
    if any(not _affordable(factor) for factor in factors):
        raise CertificateError(
            _(
                "This private key is protected with unusual encryption settings we do not "
                "accept. Export it without a passphrase (openssl pkey -in key.pem -out "
                "private.pem), or with standard settings (openssl pkcs8 -topk8 -v2 aes-256-cbc "
                "-iter 100000 -in key.pem -out private.pem), and upload that file."
            ),
            field="private_key",
        )


def _unreadable_key() -> CertificateError:
    return CertificateError(
        _("This encrypted private key could not be read. Export it again."),
        field="private_key",
    )


def _affordable(factor: pkcs8.WorkFactor) -> bool:
    """Within every cap. scrypt's are separate: a product cap lets one huge factor through
    (N=2**20 takes a GiB; p=2**22 with N=2 takes seconds), each cap bounds memory or time."""
    if factor.kdf in ("pbkdf2", "pbes1"):
        return factor.iterations <= settings.ONRAMP_KDF_MAX_PBKDF2_ITERATIONS
    if factor.kdf == "scrypt":
        return (
            factor.scrypt_n <= settings.ONRAMP_KDF_MAX_SCRYPT_N
            and factor.scrypt_r <= settings.ONRAMP_KDF_MAX_SCRYPT_R
            and factor.scrypt_p <= settings.ONRAMP_KDF_MAX_SCRYPT_P
        )
    return False  # a KDF we cannot price


def _check_dates(certificate: x509.Certificate, now: datetime) -> None:
    starts, ends = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if ends <= now:
        raise CertificateError(
            _("This certificate expired on %(date)s. Make a new one.")
            % {"date": ends.date().isoformat()}
        )
    if starts > now + CLOCK_LEEWAY:
        raise CertificateError(
            _("This certificate is not valid until %(date)s.")
            % {"date": starts.date().isoformat()}
        )
    days = (ends - starts).days
    if ends - starts > MAX_VALIDITY + timedelta(days=1):
        raise CertificateError(
            _(
                "This certificate is valid for %(days)d days. NetSuite accepts at most two years "
                "and shortens longer ones, so make one with -days 730."
            )
            % {"days": days}
        )


def _public_der(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pair(key: PrivateKey, certificate: x509.Certificate) -> KeyPair:
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return KeyPair(
        private_key_pem=private_pem,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        algorithm=jwt_algorithm(key),
        fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        not_after=certificate.not_valid_after_utc,
    )
