"""Sending a task to the broker for a row of the outbox kind (attempts, webhook deliveries).

Services name the task they want (``Task``) instead of importing ``tasks.py``, which imports
the services: the task is looked up in Celery's registry when it is sent.

A broker that is down must not fail the request that changed the state: the row stays
undispatched (``dispatched_at`` empty) and the sweeper sends it later. ``dispatched_at`` also
lets the sweeper tell a message that is merely waiting from one that was lost.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from celery import current_app
from django.db.models import Model
from django.utils import timezone
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


class Task(StrEnum):
    """The tasks services send (each defined in ``tasks.py`` under this name)."""

    RUN_VALIDATION = "connections.tasks.run_validation"
    RUN_HEALTH_CHECKS = "connections.tasks.run_health_checks"
    DELIVER_WEBHOOK = "connections.tasks.deliver_webhook"
    RUN_SYNC = "connections.tasks.run_sync"


def task_send(
    task: Task, model: type[Model], pk: str, *, countdown: float = 0, noted: bool = False
) -> bool:
    """Queue ``task(pk)``; note when. False (logged) when the broker cannot be reached.

    ``noted``: the row was written with ``dispatched_at`` already set (saving an UPDATE on
    the way that matters); then only a failure is written, clearing it so the sweeper sends
    the row at its next pass. (Should the process die between its commit and the send, the
    sweeper sends it a lease later, as a lost message.)
    """
    try:
        current_app.tasks[task].apply_async((pk,), retry=False, countdown=countdown or None)
    except (KombuError, OSError):  # the broker is unreachable (connection, DNS, timeout)
        logger.warning("could not send %s %s to the broker", model.__name__, pk)
        if noted:
            model.objects.filter(pk=pk).update(dispatched_at=None)
        return False
    if not noted:
        model.objects.filter(pk=pk).update(dispatched_at=timezone.now())
    return True


def task_send_batch(task: Task, ids: list[str]) -> bool:
    """Queue ``task(ids)`` for rows that keep no dispatch time of their own (they are claimed
    with a lease instead). False (logged) when the broker cannot be reached."""
    try:
        current_app.tasks[task].apply_async((ids,), retry=False)
    except (KombuError, OSError):
        logger.warning("could not send %s for %d rows to the broker", task.name, len(ids))
        return False
    return True


def tasks_run_inline() -> bool:
    """No broker (the embedded default, unit tests): a task runs in the sender's thread."""
    return bool(current_app.conf.task_always_eager)


def task_nudge(task: Task) -> bool:
    """Queue ``task()`` naming no row: it finds its own work (more is due than one task
    took). False (logged) when the broker cannot be reached; the sweeper covers it."""
    try:
        current_app.tasks[task].apply_async((), retry=False)
    except (KombuError, OSError):
        logger.warning("could not send %s to the broker", task.name)
        return False
    return True
