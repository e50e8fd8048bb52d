"""Key rotation: re-encrypt stored secrets under the newest key, in batches."""

from django.db import transaction
from django.db.models import Model

from connections import crypto
from connections.models import Connection, SigningKey, ValidationAttempt

# Every model holding ciphertext, with its encrypted fields (``encrypted_fields``).
ENCRYPTED_MODELS: tuple[type[Model], ...] = (Connection, ValidationAttempt, SigningKey)


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
