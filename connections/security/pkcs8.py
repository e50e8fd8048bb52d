"""How much work opening a passphrase-protected private key would take, read before trying.

An encrypted PKCS#8 file (``BEGIN ENCRYPTED PRIVATE KEY``) names its key-derivation function
and work factor: a hostile file can ask for 2^31 PBKDF2 iterations and hold a worker for
minutes. We read those parameters from the DER ourselves (a few dozen bytes of ASN.1) and
refuse anything above our caps, or any KDF we do not know, before OpenSSL runs it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
SCRYPT = "1.3.6.1.4.1.11591.4.11"
# PBES1 and PKCS#12 password-based schemes: SEQUENCE {salt, iterations}.
SALT_AND_ITERATIONS = frozenset(
    {f"1.2.840.113549.1.5.{n}" for n in (1, 3, 4, 6, 10, 11)}
    | {f"1.2.840.113549.1.12.1.{n}" for n in range(1, 7)}
)
_BLOCK = re.compile(
    rb"-----BEGIN ENCRYPTED PRIVATE KEY-----(.*?)-----END ENCRYPTED PRIVATE KEY-----", re.S
)
SEQUENCE, INTEGER, OCTET_STRING, OID = 0x30, 0x02, 0x04, 0x06


class UnreadableKey(ValueError):
    """The encryption parameters could not be read."""


@dataclass(frozen=True)
class WorkFactor:
    kdf: str  # "pbkdf2", "scrypt", "pbes1", or the OID of a KDF we do not know
    iterations: int = 0  # PBKDF2 and PBES1
    # scrypt (RFC 7914): memory is 128·N·r bytes, time grows with N·r·p.
    scrypt_n: int = 0
    scrypt_r: int = 0
    scrypt_p: int = 0


def work_factors(data: bytes) -> list[WorkFactor]:
    """The KDF work factor of every encrypted PKCS#8 block in a PEM file (none: [])."""
    found = []
    for block in _BLOCK.findall(data):
        try:
            der = base64.b64decode(b"".join(block.split()), validate=True)
        except binascii.Error:
            raise UnreadableKey("not base64") from None
        found.append(_work_factor(der))
    return found


def _work_factor(der: bytes) -> WorkFactor:
    info = _Reader(der).read(SEQUENCE)
    algorithm = info.read(SEQUENCE)
    oid = algorithm.read_oid()
    if oid in SALT_AND_ITERATIONS:
        params = algorithm.read(SEQUENCE)
        params.read(OCTET_STRING)
        return WorkFactor("pbes1", iterations=_iterations(params))
    if oid != PBES2:
        return WorkFactor(oid)
    kdf = algorithm.read(SEQUENCE).read(SEQUENCE)
    kdf_oid = kdf.read_oid()
    params = kdf.read(SEQUENCE)
    if kdf_oid == PBKDF2:
        params.read(OCTET_STRING)
        return WorkFactor("pbkdf2", iterations=_iterations(params))
    if kdf_oid == SCRYPT:
        params.read(OCTET_STRING)
        return _scrypt(params)
    return WorkFactor(kdf_oid)


def _iterations(params: _Reader) -> int:
    """An iteration count; zero is no valid key (OpenSSL fails on it without saying why)."""
    iterations = params.read_int()
    if iterations < 1:
        raise UnreadableKey("no iterations")
    return iterations


def _scrypt(params: _Reader) -> WorkFactor:
    """scrypt's N, r and p as RFC 7914 allows them: N a power of two above 1, r and p ≥ 1.
    Anything else is no valid key, and OpenSSL would fail on it with an internal error."""
    n, r, p = params.read_int(), params.read_int(), params.read_int()
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise UnreadableKey("scrypt parameters out of range")
    return WorkFactor("scrypt", scrypt_n=n, scrypt_r=r, scrypt_p=p)


class _Reader:
    """Just enough DER: definite lengths, the tags above, and nothing past the end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, tag: int) -> _Reader:
        if self.at + 2 > len(self.data) or self.data[self.at] != tag:
            raise UnreadableKey(f"expected tag {tag:#x}")
        length, start = self._length(self.at + 1)
        if start + length > len(self.data):
            raise UnreadableKey("truncated")
        self.at = start + length
        return _Reader(self.data[start : start + length])

    def read_int(self) -> int:
        value = self.read(INTEGER).data
        if not value or len(value) > 8 or value[0] & 0x80:
            raise UnreadableKey("integer out of range")
        return int.from_bytes(value, "big")

    def read_oid(self) -> str:
        value = self.read(OID).data
        if not value:
            raise UnreadableKey("empty OID")
        parts, number = [value[0] // 40, value[0] % 40], 0
        for byte in value[1:]:
            number = (number << 7) | (byte & 0x7F)
            if not byte & 0x80:
                parts.append(number)
                number = 0
        return ".".join(map(str, parts))

    def _length(self, at: int) -> tuple[int, int]:
        first = self.data[at]
        if first < 0x80:
            return first, at + 1
        size = first & 0x7F
        if not 1 <= size <= 4 or at + 1 + size > len(self.data):
            raise UnreadableKey("bad length")
        return int.from_bytes(self.data[at + 1 : at + 1 + size], "big"), at + 1 + size
