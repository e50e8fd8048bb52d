"""Deploy-time checks that need the database (``manage.py check --deploy --database default``)."""

from typing import Any

from django.core import checks
from django.db import connection

from connections.services.keys import keys_missing


@checks.register(checks.Tags.database)
def check_encryption_keys(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every key id that encrypts a stored secret must still be in the key ring: a key
    removed too early makes those secrets unreadable (connections can no longer be used)."""
    if not databases or not _migrated():
        return []  # `migrate` runs database checks too, before the tables exist
    return [
        checks.Error(
            f"Encryption key {key_id!r} still encrypts {count} stored secret(s) but is missing "
            "from ONRAMP_ENCRYPTION_KEYS.",
            hint="Put the key back (after the newest), run `manage.py reencrypt`, then remove it.",
            id="connections.E001",
        )
        for key_id, count in sorted(keys_missing().items())
    ]


def _migrated() -> bool:
    from connections.services.keys import ENCRYPTED_MODELS

    tables = set(connection.introspection.table_names())
    return all(model._meta.db_table in tables for model in ENCRYPTED_MODELS)
