"""Secrets at rest over time: re-encrypt them under the newest encryption key (the key ring
in ``ONRAMP_ENCRYPTION_KEYS``), count what each key still encrypts, erase what is no longer
needed."""

from datetime import timedelta

from django.apps import apps
from django.db import transaction
from django.db.models import Count, Model, Value
from django.db.models.functions import Left, StrIndex
from django.utils import timezone

from connections.models import (
    Connection,
    CredentialFile,
    LinkSession,
    SigningKey,
    ValidationAttempt,
)
from connections.security import crypto, token_cache


def encrypted_models() -> list[type[Model]]:
    """Every model that stores ciphertext, read from the app registry: a model declares its
    encrypted fields (``encrypted_fields``) and is then re-encrypted and counted here. Never a
    hand-kept list: one missed three models and rotation left their secrets under the old key.
    """
    return [
        model
        for model in apps.get_models()
        if getattr(model, "encrypted_fields", ()) and not model._meta.proxy
    ]


def reencrypt_all(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every ciphertext not under the newest key. Safe to interrupt and rerun."""
    return {model._meta.label: _reencrypt_model(model, batch_size) for model in encrypted_models()}


def _reencrypt_model(model: type[Model], batch_size: int) -> int:
    current = crypto.keyring().current_id
    done, last_pk = 0, None
    while True:
        rows = model.objects.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return done
        done += sum(_reencrypt_row(model, pk, current) for pk in batch)
        last_pk = batch[-1]


@transaction.atomic
def _reencrypt_row(model: type[Model], pk: str, current: str) -> bool:
    """Lock the row and read it afresh: a secret erased meanwhile (a revocation) stays erased."""
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        return False
    changed = []
    for field in row.encrypted_fields:
        token = getattr(row, field)
        if token and crypto.key_id_of(token) != current:
            aad = crypto.associated_data(row, field)
            setattr(row, field, crypto.encrypt(crypto.decrypt(token, aad=aad), aad=aad))
            changed.append(field)
    if changed:
        row.save(update_fields=changed)
        if isinstance(row, Connection):
            token_cache.forget_connection(row.pk)  # cached copies of the old ciphertext
    return bool(changed)


def keys_in_use() -> dict[str, int]:
    """How many stored ciphertexts each key id encrypts (non-empty fields only)."""
    counts: dict[str, int] = {}
    for model in encrypted_models():
        for field in model.encrypted_fields:
            key_id = Left(field, StrIndex(field, Value(":")) - 1)
            rows = (
                model.objects.exclude(**{field: ""})
                .annotate(key_id=key_id)
                .values("key_id")
                .annotate(n=Count("pk"))
            )
            for row in rows:
                counts[row["key_id"]] = counts.get(row["key_id"], 0) + row["n"]
    return counts


def keys_missing() -> dict[str, int]:
    """Key ids still used by stored secrets but absent from the key ring, with their counts."""
    ring = {key_id for key_id, _ in crypto.keyring().keys}
    return {key_id: n for key_id, n in keys_in_use().items() if key_id not in ring}


def stale_secrets_purge(*, older_than: timedelta = timedelta(days=1)) -> dict[str, int]:
    """Erase secrets left on link sessions that ended without a connection.

    A validated session's copies are erased at once; this catches sessions that expired,
    locked or were abandoned, once they are ``older_than`` past their expiry.
    """
    cutoff = timezone.now() - older_than
    stale = LinkSession.objects.filter(expires_at__lt=cutoff)
    attempts = ValidationAttempt.objects.filter(link_session__in=stale).exclude(credentials="")
    keys = SigningKey.objects.filter(link_session__in=stale).exclude(private_key="")
    files = CredentialFile.objects.filter(link_session__in=stale).exclude(secrets="")
    return {
        "attempts": attempts.update(credentials=""),
        "signing_keys": keys.update(private_key=""),
        "credential_files": files.update(secrets=""),
    }
