"""Scheduled upkeep of connections: health checks, and access tokens refreshed ahead of time.

Celery beat calls ``health_checks_start`` every few minutes. It claims the connections whose
``next_check_at`` has come, in turns across partners (pushing ``next_check_at`` a lease ahead,
so a second scheduler or a lost message never checks one twice at once), and sends them to the
workers in chunks on the scheduled lane (``config/lanes.py``). A check
(``health_check_run``) is the live check without the bookkeeping of a partner's
revalidation: no attempt row, no audit event unless the status changes; it reads the
connection, calls the remote, and records the result on the connection (three queries beyond
the remote's time). A check that is lost (worker died, broker down) is due
again when its lease ends.

``next_check_at`` is set with jitter (connections made together are checked apart) and
brought forward when a proxied call was refused. A refused sign-in makes the connection
invalid only when the next check, minutes later, is refused too. Connections made invalid
by a refused sign-in are left alone: signing in again and again with credentials known to be
wrong can lock the customer's user; they come back through a reconnect or a partner's
revalidation. Connections made invalid by an address or network problem keep being checked,
and a pass restores them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from catalog.registry import get_definition
from connections.agents.routing import agent_route_for_connection
from connections.dispatch import Task, task_send_batch
from connections.errors import OnrampError
from connections.models import Connection, ConnectionStatus
from connections.outbound.agent_routes import agent_routed
from connections.outbound.errors import OutboundError
from connections.services.connections import connection_credentials_fresh, connection_record_check
from connections.services.oauth import REFRESH_AHEAD, app_headers_for
from connections.verification.failures import FAILURES, Blame, Outcome, describe
from connections.verification.run import build_target, verify

logger = logging.getLogger(__name__)
BATCH = 2000  # per scheduler run (every few minutes): well above 1,000,000 checks a day
CHUNK = 25  # checks per task message
LEASE = timedelta(minutes=15)  # a claimed check not recorded by then is due again
CREDENTIAL_CODES = [code for code, f in FAILURES.items() if f.blame is Blame.CREDENTIALS]
CHECKED = Q(status=ConnectionStatus.ACTIVE) | (
    Q(status=ConnectionStatus.INVALID) & ~Q(last_error_code__in=CREDENTIAL_CODES)
)


def health_checks_start(*, batch: int = BATCH) -> int:
    """Claim the checks that are due and send them to the workers; return how many."""
    due = _claim_due(batch)
    for start in range(0, len(due), CHUNK):
        task_send_batch(Task.RUN_HEALTH_CHECKS, due[start : start + CHUNK])  # lost: due again
    return len(due)


@transaction.atomic
def _claim_due(batch: int) -> list[str]:
    """Up to ``batch`` due checks, taken in turns across partners (each partner's oldest
    first, then each one's second…), so a large partner's backlog never holds back another
    partner's checks; in that order, so the chunks sent first mix partners too."""
    now = timezone.now()
    due = Connection.objects.filter(CHECKED, next_check_at__lte=now)
    turn = Window(RowNumber(), partition_by=F("partner_id"), order_by=F("next_check_at").asc())
    in_turns = list(
        due.annotate(turn=turn)
        .order_by("turn", "next_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    free = set(
        due.select_for_update(skip_locked=True)
        .filter(pk__in=in_turns)
        .values_list("pk", flat=True)
    )  # another scheduler may hold some of them
    claimed = [pk for pk in in_turns if pk in free]
    Connection.objects.filter(pk__in=claimed).update(next_check_at=now + LEASE)
    return claimed


def health_checks_run(*, connection_ids: list[str]) -> None:
    """Run a chunk of claimed checks, one after another (a worker's task)."""
    for connection_id in connection_ids:
        try:
            health_check_run(connection_id=connection_id)
        except DatabaseError:  # the rest of the chunk is due again after the lease
            logger.exception("health check of %s could not be recorded", connection_id)
            raise


def health_check_run(*, connection_id: str) -> None:
    """Check one connection live and record the result (a check by the system)."""
    connection = Connection.objects.filter(CHECKED, pk=connection_id).first()
    if connection is None:  # revoked, or made invalid for good meanwhile
        return
    connection_record_check(
        connection_id=connection.pk, outcome=_check(connection), by_system=True
    )


def _check(connection: Connection) -> Outcome | None:
    definition = get_definition(connection.system_id)
    method = definition.method(connection.method) if definition else None
    if method is None:
        return describe("internal_error")
    try:
        app = app_headers_for(connection.partner_id, definition.slug, method)
        if app is None:  # the partner's app for the system is gone: not the customer's doing
            return describe("internal_error")
        credentials = connection_credentials_fresh(connection)
        target = build_target(definition, method, connection.config, app)
        with agent_routed(agent_route_for_connection(connection)):
            return verify(target, credentials, _quiet)
    except OutboundError as exc:  # the token endpoint, while refreshing first
        return describe(exc.code if exc.code in FAILURES else "connection_failed")
    except OnrampError:  # the refresh was refused for good: already recorded
        return None if connection.status == ConnectionStatus.ACTIVE else describe("invalid_grant")
    except Exception:  # a bug (or a missing key) must not stop the other checks
        logger.exception("health check of %s crashed", connection.pk)
        return describe("internal_error")


def _quiet(states: dict[str, str]) -> None:
    """A health check's stages are shown nowhere."""


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
