"""Reading stored secrets: pure decryption, no state change and no remote call.

Services that must read a secret (to check it, refresh it, or revoke it at a provider) read
it here, so none of them needs another service just to decrypt. Never render what these
return.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.utils import timezone

from connections.models import Connection, ValidationAttempt
from connections.security import crypto


def connection_credentials(connection: Connection) -> dict[str, str]:
    """A connection's stored credentials."""
    aad = crypto.associated_data(connection, "credentials")
    return crypto.unseal(connection.credentials, aad=aad)


def attempt_credentials(attempt: ValidationAttempt) -> dict[str, str]:
    """The candidate credentials a validation attempt checks."""
    return crypto.unseal(attempt.credentials, aad=crypto.associated_data(attempt, "credentials"))


def token_expiry(credentials: dict[str, str]) -> datetime | None:
    """When an access token among the credentials expires (``expires_at``, epoch seconds)."""
    expires = credentials.get("expires_at", "")
    if not expires.isdigit():
        return None
    return timezone.now() + timedelta(seconds=int(expires) - time.time())
