"""Partners and their secret API keys."""

import ipaddress
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.branding import branding_checked, lead_texts_checked, lead_texts_merged
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import Mode, Partner, PartnerKey
from connections.security import tokens
from connections.security.tokens import TokenKind
from connections.selectors import partner_keys_usable
from connections.services.audit import event_record

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
KEY_USE_RESOLUTION = timedelta(minutes=1)
ROLL_OVERLAP = timedelta(hours=24)  # how long a rolled key keeps working, unless told
MAX_ROLL_OVERLAP = timedelta(days=7)
MAX_KEYS = 20  # usable keys per partner
LINE_BREAK = re.compile(r"[\r\n]|%0[ad]", re.IGNORECASE)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def origin_normalize(value: str) -> str:
    """An exact origin: ``https://host[:port]``, nothing else (no path, wildcard, userinfo).

    Plain http only for localhost, and only when ``ONRAMP_ALLOW_HTTP_LOCALHOST`` is on (the
    embedded default). Every way in (admin, API, ``create_partner``) goes through here, since
    the result is written into ``Content-Security-Policy: frame-ancestors``.
    """
    scheme, host, port = _origin_parts(value)
    if not _allowed_scheme(scheme, host):
        raise _not_an_origin(value)
    netloc = f"[{host}]" if ":" in host else host
    default = {"https": 443, "http": 80}[scheme]  # as browsers write an origin: no :443
    return f"{scheme}://{netloc}" + (f":{port}" if port and port != default else "")


def redirect_url_check(*, partner: Partner, url: str) -> str:
    """A redirect URL whose scheme, host and port are exactly one of the partner's origins,
    without a line break (CR or LF, raw or percent-encoded: it could split the ``Location``
    header the URL ends up in; 422)."""
    try:
        parts = urlsplit(url)
        origin = origin_normalize(f"{parts.scheme}://{parts.netloc}")
    except (ValueError, OnrampError):
        raise OnrampError(
            "invalid_redirect_url", "redirect_url must be an https:// URL without user info."
        ) from None
    if origin not in partner.allowed_origins:
        raise OnrampError(
            "redirect_url_not_allowed",
            f"redirect_url must be on one of this partner's allowed origins, not {origin}.",
        )
    if LINE_BREAK.search(url):
        raise OnrampError(
            "invalid_redirect_url",
            "redirect_url must not contain a line break (CR or LF, raw or as %0d / %0a).",
            422,
        )
    return url


def _origin_parts(value: str) -> tuple[str, str, int | None]:
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _not_an_origin(value) from None
    if parts.username is not None or "@" in parts.netloc or "*" in text:
        raise _not_an_origin(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or port == 0:
        raise _not_an_origin(value)
    host = (parts.hostname or "").lower()
    if not _valid_host(host):
        raise _not_an_origin(value)
    return parts.scheme, host, port


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.removesuffix(".").split(".")
        return bool(host) and all(_LABEL.match(label) for label in labels)


def _allowed_scheme(scheme: str, host: str) -> bool:
    if scheme == "https":
        return True
    return scheme == "http" and host in LOOPBACK_HOSTS and settings.ONRAMP_ALLOW_HTTP_LOCALHOST


def _not_an_origin(value: str) -> OnrampError:
    return OnrampError(
        "invalid_origin",
        f"{value[:100]!r} is not an origin like https://app.example.com "
        "(scheme, host and optional port only).",
    )


@transaction.atomic
def partner_create(
    *, name: str, origins: list[str], actor: str, mode: str = Mode.LIVE
) -> tuple[Partner, str]:
    """Create a partner with one secret key of ``mode`` (a test key to start building
    against the Sandbox ERP); return the key's value (shown once)."""
    partner = Partner.objects.create(
        name=name, allowed_origins=[origin_normalize(origin) for origin in origins]
    )
    event_record(partner=partner, kind=EventKind.PARTNER_CREATED, actor=actor)
    _, secret = partner_key_create(partner=partner, actor=actor, label="initial", mode=mode)
    return partner, secret


@transaction.atomic
def partner_key_create(
    *, partner: Partner, actor: str, label: str = "", mode: str = Mode.LIVE, limit: int = 0
) -> tuple[PartnerKey, str]:
    """A new secret key: ``live``, or ``test`` (sees only the Sandbox ERP and test
    connections, so a partner can build safely). ``limit``: refused (409 ``too_many_keys``)
    when the partner already has that many usable keys (the partner API's own cap)."""
    if limit:
        _ensure_room(partner, limit)
    minted = tokens.mint(TokenKind.PARTNER_KEY, mode=Mode(mode).value)
    key = PartnerKey.objects.create(
        partner=partner, label=label, digest=minted.digest, display=minted.display, mode=mode
    )
    event_record(
        partner=partner,
        kind=EventKind.PARTNER_KEY_CREATED,
        actor=actor,
        data={"key": key.id, "display": key.display, "mode": key.mode},
    )
    return key, minted.value


def _ensure_room(partner: Partner, limit: int) -> None:
    Partner.objects.select_for_update().filter(pk=partner.pk).first()  # one count at a time
    if partner_keys_usable(partner).count() >= limit:
        raise OnrampError(
            "too_many_keys",
            f"At most {limit} keys can be in use at once: revoke one you no longer need "
            "(DELETE /api/v1/keys/{id}).",
            409,
        )


def partner_key_authenticate(secret: str) -> PartnerKey | None:
    """The key for a secret, or None (malformed secrets cost no query). A real key that was
    revoked or has expired raises ``OnrampError`` (401 ``key_revoked`` / ``key_expired``):
    its holder should learn why it stopped working, not be told it mistyped."""
    if not tokens.well_formed(secret, TokenKind.PARTNER_KEY):
        return None
    key = (
        PartnerKey.objects.select_related("partner")
        .filter(digest=tokens.digest(secret), partner__is_active=True)
        .first()
    )
    if key is None or not tokens.digests_match(secret, key.digest):
        return None
    _refuse_ended(key)
    _note_use(key)
    return key


def _refuse_ended(key: PartnerKey) -> None:
    if key.revoked_at is not None:
        raise OnrampError(
            "key_revoked",
            f"This key ({key.display}) was revoked at {key.revoked_at:%Y-%m-%d %H:%M} UTC. "
            "Use another of your keys, or create one (POST /api/v1/keys with a live key).",
            401,
        )
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise OnrampError(
            "key_expired",
            f"This key ({key.display}) was rolled and expired at "
            f"{key.expires_at:%Y-%m-%d %H:%M} UTC. Use the key that replaced it.",
            401,
        )


def _note_use(key: PartnerKey) -> None:
    """``last_used_at``, written at most once a minute per key (not a write per request)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > KEY_USE_RESOLUTION:
        PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


@transaction.atomic
def partner_key_revoke(*, key: PartnerKey, actor: str) -> None:
    """The key stops working at once (401 ``key_revoked``)."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        event_record(
            partner=key.partner,
            kind=EventKind.PARTNER_KEY_REVOKED,
            actor=actor,
            data={"key": key.id, "display": key.display},
        )


@transaction.atomic
def partner_key_roll(
    *, key: PartnerKey, actor: str, expires_in: timedelta = ROLL_OVERLAP
) -> tuple[PartnerKey, str]:
    """Stripe's "roll key": a new key of the same mode and label (its value shown once);
    the old one keeps working for ``expires_in`` (0 to 7 days; 0: it stops at once), so
    every server can switch before it ends. Rolling a key that already expires never makes
    it last longer."""
    if not timedelta(0) <= expires_in <= MAX_ROLL_OVERLAP:
        raise OnrampError("invalid_expiry", "expires_in must be 0 to 604800 seconds (7 days).")
    key = PartnerKey.objects.select_for_update().get(pk=key.pk)
    if not partner_key_usable(key):
        raise OnrampError("key_ended", "This key was revoked or has expired already.", 409)
    ends = timezone.now() + expires_in
    if key.expires_at is None or ends < key.expires_at:
        key.expires_at = ends
        key.save(update_fields=["expires_at"])
    new, secret = partner_key_create(
        partner=key.partner, actor=actor, label=key.label, mode=key.mode, limit=MAX_KEYS
    )
    event_record(
        partner=key.partner,
        kind=EventKind.PARTNER_KEY_ROLLED,
        actor=actor,
        data={"key": key.id, "replaced_by": new.id, "expires_at": key.expires_at.isoformat()},
    )
    return new, secret


def partner_key_usable(key: PartnerKey) -> bool:
    """Neither revoked nor expired."""
    expired = key.expires_at is not None and key.expires_at <= timezone.now()
    return key.revoked_at is None and not expired


@transaction.atomic
def partner_update_branding(*, partner: Partner, values: dict, actor: str) -> Partner:
    """New branding defaults (each value checked; ``None`` leaves a value as it is). Lead
    texts per language are merged into the partner's: an empty text removes a language's."""
    cleaned: dict[str, Any] = branding_checked(values)
    if (translations := values.get("lead_text_translations")) is not None:
        changes = lead_texts_checked(translations)
        current = partner.lead_text_translations
        cleaned["lead_text_translations"] = lead_texts_merged(current, changes)
    for name, value in cleaned.items():
        setattr(partner, name, value)
    if cleaned:
        partner.save(update_fields=list(cleaned))
    event_record(
        partner=partner,
        kind=EventKind.PARTNER_UPDATED,
        actor=actor,
        data={"fields": sorted(cleaned)},
    )
    return partner
