"""Partners and their secret API keys."""

from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from connections import tokens
from connections.errors import OnrampError
from connections.models import Partner, PartnerKey
from connections.services.events import event_record
from connections.tokens import TokenKind

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def origin_normalize(value: str) -> str:
    """An exact origin (``https://app.example.com[:port]``); http only for loopback."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise OnrampError("invalid_origin", f"{value!r} is not a valid origin.") from None
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)
    if not host or not secure or parts.path not in ("", "/") or parts.query or parts.username:
        raise OnrampError(
            "invalid_origin",
            f"{value!r} is not an origin like https://app.example.com (http only for localhost).",
        )
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port else "")


@transaction.atomic
def partner_create(*, name: str, origins: list[str], actor: str) -> tuple[Partner, str]:
    """Create a partner with one secret key; return the key's value (shown once)."""
    partner = Partner.objects.create(
        name=name, allowed_origins=[origin_normalize(origin) for origin in origins]
    )
    event_record(partner=partner, kind="partner.created", actor=actor)
    _, secret = partner_key_create(partner=partner, actor=actor, label="initial")
    return partner, secret


@transaction.atomic
def partner_key_create(*, partner: Partner, actor: str, label: str = "") -> tuple[PartnerKey, str]:
    minted = tokens.mint(TokenKind.PARTNER_KEY)
    key = PartnerKey.objects.create(
        partner=partner, label=label, digest=minted.digest, display=minted.display
    )
    event_record(
        partner=partner,
        kind="partner_key.created",
        actor=actor,
        data={"key": key.id, "display": key.display},
    )
    return key, minted.value


def partner_key_authenticate(secret: str) -> PartnerKey | None:
    """The live key for a secret, or None. Malformed secrets cost no query."""
    if not tokens.well_formed(secret, TokenKind.PARTNER_KEY):
        return None
    key = (
        PartnerKey.objects.select_related("partner")
        .filter(digest=tokens.digest(secret), revoked_at=None, partner__is_active=True)
        .first()
    )
    if key is None or not tokens.digests_match(secret, key.digest):
        return None
    return key


@transaction.atomic
def partner_key_revoke(*, key: PartnerKey, actor: str) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        event_record(
            partner=key.partner,
            kind="partner_key.revoked",
            actor=actor,
            data={"key": key.id, "display": key.display},
        )
