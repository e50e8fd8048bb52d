"""Sending a task to the broker for a row of the outbox kind (attempts, webhook deliveries).

A broker that is down must not fail the request that changed the state: the row stays
undispatched (``dispatched_at`` empty) and the sweeper sends it later. ``dispatched_at`` also
lets the sweeper tell a message that is merely waiting from one that was lost.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Model
from django.utils import timezone
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


def task_send(task: Any, model: type[Model], pk: str, *, countdown: float = 0) -> bool:
    """Queue ``task(pk)``; note when. False (logged) when the broker cannot be reached."""
    try:
        task.apply_async((pk,), retry=False, countdown=countdown or None)
    except (KombuError, OSError):  # the broker is unreachable (connection, DNS, timeout)
        logger.warning("could not send %s %s to the broker", model.__name__, pk)
        return False
    model.objects.filter(pk=pk).update(dispatched_at=timezone.now())
    return True
