"""Key pairs made the way customers make them: with the openssl command line."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.ciphers.modes import CBC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.padding import PKCS7

RSA_PSS = [
    "-newkey",
    "rsa:4096",
    "-sigopt",
    "rsa_padding_mode:pss",
    "-sha256",
    "-sigopt",
    "rsa_pss_saltlen:64",
]
EC_P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]


def openssl_pair(directory: Path, key: list[str] = RSA_PSS, days: int = 730) -> tuple[Path, Path]:
    """Run ``openssl req -x509`` as our instructions say; return (public.pem, private.pem)."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-x509",
            *key,
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=test",
            "-out",
            "public.pem",
            "-keyout",
            "private.pem",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return directory / "public.pem", directory / "private.pem"


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    body = bytearray([first * 40 + second])
    for number in rest:
        chunk = [number & 0x7F]
        while number := number >> 7:
            chunk.insert(0, 0x80 | (number & 0x7F))
        body += bytes(chunk)
    return _der(0x06, bytes(body))


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def hostile_pkcs8(*, kdf: str = "pbkdf2", cost: int = 2**31 - 1, r: int = 8, p: int = 1) -> bytes:
    """An encrypted PKCS#8 key (PEM) that asks for ``cost`` work: PBKDF2 iterations, scrypt N
    (with ``r`` and ``p``), PKCS#12 (PBES1-style) iterations, or an unknown KDF. Its
    ciphertext is junk: only the work matters."""
    salt = _der(0x04, b"\x01" * 8)
    if kdf == "pbes1":  # pbeWithSHAAnd3-KeyTripleDES-CBC: SEQUENCE {salt, iterations}
        params = _der(0x30, salt + _int(cost))
        algorithm = _der(0x30, _oid("1.2.840.113549.1.12.1.3") + params)
        return _pem(_der(0x30, algorithm + _der(0x04, b"\x03" * 144)))
    if kdf == "pbkdf2":
        hmac_sha256 = _der(0x30, _oid("1.2.840.113549.2.9") + b"\x05\x00")
        params = _der(0x30, salt + _int(cost) + hmac_sha256)
        kdf_id = _der(0x30, _oid("1.2.840.113549.1.5.12") + params)
    elif kdf == "scrypt":
        params = _der(0x30, salt + _int(cost) + _int(r) + _int(p))
        kdf_id = _der(0x30, _oid("1.3.6.1.4.1.11591.4.11") + params)
    else:
        kdf_id = _der(0x30, _oid("1.2.3.4.5") + _der(0x30, salt))
    aes = _der(0x30, _oid("2.16.840.1.101.3.4.1.42") + _der(0x04, b"\x02" * 16))
    algorithm = _der(0x30, _oid("1.2.840.113549.1.5.13") + _der(0x30, kdf_id + aes))
    return _pem(_der(0x30, algorithm + _der(0x04, b"\x03" * 144)))


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der)
    label = b"ENCRYPTED PRIVATE KEY-----\n"
    return b"-----BEGIN " + label + body + b"-----END " + label


def openssl_scrypt(private: Path, passphrase: str) -> bytes:
    """``private`` encrypted as ``openssl pkcs8 -topk8 -scrypt`` does (N=2**14, r=8, p=1:
    OpenSSL's defaults; its own 32 MiB memory limit refuses to write N=2**15 with r=8)."""
    return subprocess.run(
        [
            *("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-scrypt"),
            *("-in", str(private), "-passout", f"pass:{passphrase}"),
        ],
        check=True,
        capture_output=True,
    ).stdout


def scrypt_pkcs8(private: Path, passphrase: str, *, n: int, r: int = 8, p: int = 1) -> bytes:
    """``private`` as a real encrypted PKCS#8 key (PBES2: scrypt with these N, r and p, then
    AES-256-CBC), made with the ``cryptography`` library, for work factors OpenSSL's command
    line will not write."""
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    salt, iv = os.urandom(16), os.urandom(16)
    secret = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())
    padder = PKCS7(128).padder()
    encryptor = Cipher(AES(secret), CBC(iv)).encryptor()
    sealed = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    params = _der(0x30, _der(0x04, salt) + _int(n) + _int(r) + _int(p) + _int(32))
    kdf_id = _der(0x30, _oid("1.3.6.1.4.1.11591.4.11") + params)
    aes = _der(0x30, _oid("2.16.840.1.101.3.4.1.42") + _der(0x04, iv))
    algorithm = _der(0x30, _oid("1.2.840.113549.1.5.13") + _der(0x30, kdf_id + aes))
    return _pem(_der(0x30, algorithm + _der(0x04, sealed)))
