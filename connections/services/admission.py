"""Fair admission of live checks: one partner's burst waits in that partner's own line.

Each partner's customers share ``ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER`` checks running at
once, across every worker (slots in the cache, as for the proxy's caps). A new attempt whose
partner's share is taken joins the partner's line (a sorted set in Redis, oldest first)
before it is ever sent, so a burst does not flood the queue other partners' checks wait in;
a check that reaches a worker and finds the share taken joins it too, and its task ends at
once. Each check that ends hands its slot on: it sends the first of the line to the broker.
The attempt stays queued meanwhile (its screen says it is waiting its turn); should a
hand-off be lost, the sweeper re-sends it after a lease, like any queued attempt, and a line
that never moves ends as ``busy`` at the attempt's timeout. Without Redis (an outage) a
check beyond the share tries again after a moment instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db.models.functions import Coalesce

from config.cache import CacheUnavailable, SharedRedisCache
from connections.dispatch import tasks_run_inline
from connections.models import ValidationAttempt
from connections.security.inflight import Cap, CapReached, held, in_flight

# A slot outlives any run (runs end by the attempt's timeout); a dead holder's lapses then.
SLOT_MARGIN = 30


class InLine(Exception):
    """The partner's share is taken: the attempt waits in the line (``retry_in`` None) or,
    without one, is to be sent again after ``retry_in`` seconds."""

    def __init__(self, retry_in: float | None = None) -> None:
        super().__init__(retry_in)
        self.retry_in = retry_in


@contextmanager
def check_admitted(*, attempt_id: str, call_next: Callable[[str], Any]) -> Iterator[None]:
    """Hold one of the attempt's partner's check slots for the block, then hand it on to the
    first of the line (``call_next(attempt_id)``); ``InLine`` if none is free (nothing has
    been done for the attempt then). Inline tasks have no line to wait in (a re-sent task
    would run at once, in the same thread): they are always admitted."""
    if tasks_run_inline():
        yield
        return
    partner, created = _partner_of(attempt_id)
    hold = settings.ONRAMP_ATTEMPT_TIMEOUT + SLOT_MARGIN
    held = ExitStack()
    try:
        held.enter_context(in_flight(_share(partner), hold_seconds=hold))
    except CapReached:
        raise _wait_in_line(partner, attempt_id, created) from None
    try:
        with held:
            yield
    finally:
        following = _first_in_line(partner)
        if following:
            call_next(following)


def check_joins_line(*, attempt: ValidationAttempt, call_next: Callable[[str], Any]) -> bool:
    """Before a new attempt is sent to the workers: while its partner's share is taken, it
    joins the partner's line instead (True), so a burst never floods the queue that other
    partners' checks wait in; the checks that end call it in turn. Should every slot have
    been given back meanwhile, the first of the line is called at once."""
    if tasks_run_inline():
        return False
    session_or_connection = attempt.link_session or attempt.connection
    partner = str(session_or_connection.partner_id) if session_or_connection else "none"
    share = _share(partner)
    try:
        if held(share) < share.count:
            return False
    except CacheUnavailable:
        return False
    joined = _wait_in_line(partner, attempt.pk, attempt.created_at.timestamp())
    if joined.retry_in is not None:  # no line (Redis is out): send it as usual
        return False
    if _slots_free(share):
        following = _first_in_line(partner)
        if following:
            call_next(following)
    return True


def _slots_free(share: Cap) -> bool:
    try:
        return held(share) < share.count
    except CacheUnavailable:
        return False


def _partner_of(attempt_id: str) -> tuple[str, float]:
    partner = Coalesce("link_session__partner_id", "connection__partner_id")
    found = ValidationAttempt.objects.filter(pk=attempt_id).values_list(partner, "created_at")
    row = next(iter(found), None)
    return (str(row[0]), row[1].timestamp()) if row else ("none", 0.0)


def _share(partner: str) -> Cap:
    return Cap(
        f"checks:partner:{partner}", max(1, settings.ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER)
    )


def _line_name(partner: str) -> str:
    return f"onramp:checks:line:{partner}"


def _wait_in_line(partner: str, attempt_id: str, created: float) -> InLine:
    """Join the line in order of submission (joining twice keeps the first place)."""
    ttl = settings.ONRAMP_ATTEMPT_TIMEOUT + SLOT_MARGIN

    def join(client: Any, key: str) -> None:
        client.zadd(key, {attempt_id: created}, nx=True)
        client.expire(key, ttl)

    try:
        _redis().run(_line_name(partner), join)
    except (CacheUnavailable, _NoLine):
        return InLine(1 + 2 * random.random())  # noqa: S311 (spreads the retries)
    return InLine()


def _first_in_line(partner: str) -> str:
    try:
        popped = _redis().run(_line_name(partner), lambda client, key: client.zpopmin(key, 1))
    except (CacheUnavailable, _NoLine):
        return ""
    return popped[0][0].decode() if popped else ""


class _NoLine(Exception):
    """The cache is not Redis (no broker either, then: tasks run inline)."""


def _redis() -> SharedRedisCache:
    backend = caches["default"]
    if not isinstance(backend, SharedRedisCache):
        raise _NoLine
    return backend
