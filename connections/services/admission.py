"""Fair admission of live checks: one partner's burst waits in that partner's own line.

Each partner's customers share ``ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER`` checks running at
once, across every worker (slots in the cache, as for the proxy's caps). A check beyond its
partner's share is not run: its task goes back to the broker with a short delay and the
attempt stays queued (its screen says it is in line), so the worker is free at once for the
next message, which may be another partner's customer. A line that never moves ends as
``busy`` at the attempt's timeout, like any check no worker could start.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.db.models.functions import Coalesce

from connections.dispatch import tasks_run_inline
from connections.models import ValidationAttempt
from connections.security.inflight import Cap, CapReached, in_flight

# A slot outlives any run (runs end by the attempt's timeout); a dead holder's lapses then.
SLOT_MARGIN = 30


class InLine(Exception):
    """The partner's share is taken: try again after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


@contextmanager
def check_admitted(*, attempt_id: str) -> Iterator[None]:
    """Hold one of the attempt's partner's check slots for the block; ``InLine`` if none is
    free (nothing has been done for the attempt then). Inline tasks have no line to wait
    in (a re-sent task would run at once, in the same thread): they are always admitted."""
    if tasks_run_inline():
        yield
        return
    share = Cap(f"checks:partner:{_partner_of(attempt_id)}", _share())
    with ExitStack() as held:
        try:
            held.enter_context(
                in_flight(share, hold_seconds=settings.ONRAMP_ATTEMPT_TIMEOUT + SLOT_MARGIN)
            )
        except CapReached:
            raise InLine(1 + 2 * random.random()) from None  # noqa: S311 (spreads retries)
        yield


def _partner_of(attempt_id: str) -> str:
    partner = Coalesce("link_session__partner_id", "connection__partner_id")
    found = ValidationAttempt.objects.filter(pk=attempt_id).values_list(partner, flat=True)
    return str(next(iter(found), "none"))


def _share() -> int:
    return max(1, settings.ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER)
