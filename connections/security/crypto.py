"""Envelope encryption of secrets at rest (SECURITY.md rule 1).

Every ciphertext is ``<key id>:<base64(nonce || ciphertext+tag)>``: AES-256-GCM with a
12-byte random nonce, under the key named by its id, with associated data binding it to one
row and field (``connections.connection:conn_123:credentials``), so a ciphertext copied to
another row or field fails to decrypt. A missing key or a failed tag raises; nothing ever
falls back to plaintext.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db.models import Model

NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(Exception):
    """A ciphertext could not be opened: unknown key, bad format or failed tag."""


@dataclass(frozen=True)
class KeyRing:
    """Encryption keys by id, newest first; the newest encrypts, all of them decrypt."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes:
        for candidate, key in self.keys:
            if candidate == key_id:
                return key
        raise DecryptionError(f"unknown encryption key id {key_id!r}")

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """Parse ``id:base64key,id:base64key`` (newest first)."""
        keys = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key_id, _, encoded = item.partition(":")
            if not _KEY_ID.match(key_id):
                raise ImproperlyConfigured(f"Bad encryption key id {key_id!r}.")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise ImproperlyConfigured(f"Encryption key {key_id!r} is not base64.") from None
            if len(key) != KEY_BYTES:
                raise ImproperlyConfigured(f"Encryption key {key_id!r} must be 32 bytes.")
            keys.append((key_id, key))
        if not keys:
            raise ImproperlyConfigured("The encryption key ring is empty.")
        if len({key_id for key_id, _ in keys}) != len(keys):
            raise ImproperlyConfigured("Encryption key ids must be unique.")
        return cls(keys=tuple(keys))


def new_key_spec(key_id: str) -> str:
    """A fresh ``id:base64key`` entry for the key ring."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


@cache
def keyring() -> KeyRing:
    """The configured key ring (from the environment, or the embedded default's key file)."""
    if settings.ONRAMP_ENCRYPTION_KEYS:
        return KeyRing.parse(settings.ONRAMP_ENCRYPTION_KEYS)
    if settings.ONRAMP_ENCRYPTION_KEY_FILE:
        return KeyRing.parse(_read_or_create_key_file(Path(settings.ONRAMP_ENCRYPTION_KEY_FILE)))
    raise ImproperlyConfigured("No encryption keys: set ONRAMP_ENCRYPTION_KEYS.")


def _read_or_create_key_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_spec("local1") + "\n")
    return path.read_text().strip()


def _reset_keyring(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("ONRAMP_ENCRYPTION_KEY"):
        keyring.cache_clear()


setting_changed.connect(_reset_keyring)


def associated_data(instance: Model, field: str) -> str:
    """The associated data binding a ciphertext to one row and field."""
    if instance.pk is None:
        raise ValueError("Encrypt only rows that have their primary key.")
    return f"{instance._meta.label_lower}:{instance.pk}:{field}"


def encrypt(plaintext: bytes, *, aad: str) -> str:
    ring = keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(ring.key(ring.current_id)).encrypt(nonce, plaintext, aad.encode())
    return f"{ring.current_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, aad: str) -> bytes:
    key_id, _, encoded = token.partition(":")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise DecryptionError("malformed ciphertext") from None
    if len(blob) <= NONCE_BYTES:
        raise DecryptionError("malformed ciphertext")
    key = keyring().key(key_id)
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad.encode())
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication") from None


def key_id_of(token: str) -> str:
    return token.partition(":")[0]


def seal(values: dict[str, str], *, aad: str) -> str:
    """Encrypt a mapping of secret values (e.g. a connection's credentials)."""
    return encrypt(json.dumps(values, separators=(",", ":")).encode(), aad=aad)


def unseal(token: str, *, aad: str) -> dict[str, str]:
    return json.loads(decrypt(token, aad=aad))
