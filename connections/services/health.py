"""Scheduled upkeep of connections: health checks, and access tokens refreshed ahead of time.

Celery beat calls ``health_checks_start`` every few minutes; it starts a revalidation for
each connection whose ``next_check_at`` has come (set with jitter, so connections made
together are checked apart, and brought forward when a proxied call was refused). A refused
sign-in in such a check makes the connection invalid only when the next check, minutes
later, is refused too. Connections made invalid by a refused sign-in are left alone:
signing in again and again with credentials known to be wrong can lock the customer's user;
they come back through a reconnect or a partner's revalidation. Connections made invalid by
an address or network problem keep being checked, and a pass restores them.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from connections.errors import OnrampError
from connections.models import Connection, ConnectionStatus
from connections.outbound.errors import OutboundError
from connections.services.connections import connection_credentials_fresh
from connections.services.oauth import REFRESH_AHEAD
from connections.services.validation import attempt_start_revalidation
from connections.verification.failures import FAILURES, Blame

BATCH = 500
CREDENTIAL_CODES = [code for code, f in FAILURES.items() if f.blame is Blame.CREDENTIALS]


def health_checks_start(*, batch: int = BATCH) -> int:
    """Start the checks that are due; return how many started."""
    due = (
        Connection.objects.filter(next_check_at__lte=timezone.now())
        .filter(
            Q(status=ConnectionStatus.ACTIVE)
            | (Q(status=ConnectionStatus.INVALID) & ~Q(last_error_code__in=CREDENTIAL_CODES))
        )
        .order_by("next_check_at")[:batch]
    )
    started = 0
    for connection in due:
        try:
            attempt_start_revalidation(
                connection=connection, actor="system:health_check", by_system=True
            )
            started += 1
        except OnrampError:  # revoked meanwhile
            continue
    return started


def oauth_tokens_refresh_due(*, batch: int = 200) -> int:
    """Refresh every access token that expires soon (Celery beat); return how many."""
    soon = timezone.now() + REFRESH_AHEAD * 2
    due = Connection.objects.filter(status=ConnectionStatus.ACTIVE, credentials_expire_at__lt=soon)
    refreshed = 0
    for connection in due[:batch]:
        try:
            connection_credentials_fresh(connection)
            refreshed += 1
        except (OnrampError, OutboundError):
            continue  # invalid now (recorded), or the provider is down (next time)
    return refreshed
