"""Mint, check and hash Onramp's tokens (SECURITY.md rule 2).

A token reads ``onr_<kind>_<body><check>``: 27 base62 characters of randomness (160 bits)
followed by a 6-character base62 CRC32 of everything before it, so a mistyped or truncated
token is refused before any database query. Only the SHA-256 digest is stored; the token
itself is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass
from enum import Enum

ALPHABET = string.digits + string.ascii_letters
BODY_LENGTH = 27  # 62**27 > 2**160
CHECK_LENGTH = 6
DISPLAY_LENGTH = 6


class TokenKind(Enum):
    PARTNER_KEY = "sk"
    CONNECTION = "ct"
    LINK = "lt"
    PUBLIC = "pt"
    SIGN_IN_START = "sb"  # opens one sign-in's consent page in one browser, once
    SIGN_IN_BROWSER = "bw"  # the cookie that browser then holds until the callback
    AGENT = "at"  # an on-premises agent's own credential (its file, readable by its user)

    @property
    def prefix(self) -> str:
        return f"onr_{self.value}_"


@dataclass(frozen=True)
class MintedToken:
    """A new token: show ``value`` once, store ``digest`` and ``display``."""

    value: str
    digest: str
    display: str


# Partner keys say which mode they are for: ``onr_sk_test_…`` and ``onr_sk_live_…`` (keys
# minted before modes, ``onr_sk_…``, are live).
MODES = ("test", "live")


def mint(kind: TokenKind, mode: str = "") -> MintedToken:
    prefix = kind.prefix + (f"{mode}_" if mode else "")
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    value = prefix + body + _check(prefix + body)
    return MintedToken(value=value, digest=digest(value), display=display(value))


def mode_of(value: str, kind: TokenKind) -> str:
    """``test`` or ``live`` for a token that names its mode, else ''."""
    rest = value[len(kind.prefix) :] if value.startswith(kind.prefix) else ""
    return next((mode for mode in MODES if rest.startswith(f"{mode}_")), "")


def well_formed(value: str, kind: TokenKind) -> bool:
    """True when ``value`` looks like a token of ``kind``: prefix, length, alphabet, check."""
    mode = mode_of(value, kind)
    prefix = kind.prefix + (f"{mode}_" if mode else "")
    expected_length = len(prefix) + BODY_LENGTH + CHECK_LENGTH
    if len(value) != expected_length or not value.startswith(prefix):
        return False
    payload, check = value[:-CHECK_LENGTH], value[-CHECK_LENGTH:]
    if any(char not in ALPHABET for char in value[len(prefix) :]):
        return False
    return hmac.compare_digest(check, _check(payload))


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def digests_match(value: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(value), stored_digest)


def display(value: str) -> str:
    """A short, non-secret label to recognise a token by (``onr_ct_Ab3xY9…``)."""
    prefix_length = value.index("_", 4) + 1
    if value[prefix_length:].startswith(tuple(f"{mode}_" for mode in MODES)):
        prefix_length = value.index("_", prefix_length) + 1
    return value[: prefix_length + DISPLAY_LENGTH] + "…"


def _check(payload: str) -> str:
    number = zlib.crc32(payload.encode())
    chars = []
    for _ in range(CHECK_LENGTH):
        number, remainder = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[remainder])
    return "".join(reversed(chars))
