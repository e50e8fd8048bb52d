"""Secrets at rest over time: re-encrypt under the newest key; erase what is no longer needed."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from connections import crypto
from connections.models import Connection, LinkSession, SigningKey, ValidationAttempt

# Every model holding ciphertext, with its encrypted fields (``encrypted_fields``).
ENCRYPTED_MODELS: tuple[type[Model], ...] = (
    Connection,
    ValidationAttempt,
    SigningKey,
    LinkSession,
)


def reencrypt_all(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every ciphertext not under the newest key. Safe to interrupt and rerun."""
    return {model._meta.label: _reencrypt_model(model, batch_size) for model in ENCRYPTED_MODELS}


def _reencrypt_model(model: type[Model], batch_size: int) -> int:
    current = crypto.keyring().current_id
    done, last_pk = 0, ""
    while True:
        batch = list(model.objects.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            return done
        done += sum(_reencrypt_row(row, current) for row in batch)
        last_pk = batch[-1].pk


@transaction.atomic
def _reencrypt_row(row: Model, current: str) -> bool:
    changed = []
    for field in row.encrypted_fields:
        token = getattr(row, field)
        if token and crypto.key_id_of(token) != current:
            aad = crypto.associated_data(row, field)
            setattr(row, field, crypto.encrypt(crypto.decrypt(token, aad=aad), aad=aad))
            changed.append(field)
    if changed:
        row.save(update_fields=changed)
    return bool(changed)


def stale_secrets_purge(*, older_than: timedelta = timedelta(days=1)) -> dict[str, int]:
    """Erase secrets left on link sessions that ended without a connection.

    A validated session's copies are erased at once; this catches sessions that expired,
    locked or were abandoned, once they are ``older_than`` past their expiry.
    """
    cutoff = timezone.now() - older_than
    stale = LinkSession.objects.filter(expires_at__lt=cutoff)
    attempts = ValidationAttempt.objects.filter(link_session__in=stale).exclude(credentials="")
    keys = SigningKey.objects.filter(link_session__in=stale).exclude(private_key="")
    return {
        "attempts": attempts.update(credentials=""),
        "signing_keys": keys.update(private_key=""),
    }
