"""Celery's queues, one per lane of work, so scheduled work never starves interactive work.

- the default queue (``ONRAMP_TASK_QUEUE``, ``celery``): what a person waits for — live
  validations, the sweepers that keep them moving, OAuth token refreshes;
- ``<default>-webhooks``: webhook deliveries (I/O bound; a slow receiver waits here, not in
  front of a validation);
- ``<default>-scheduled``: work nobody is waiting on — health checks, syncs (scheduled or
  asked for through the API: they run for minutes), the per-system figures, the hourly purge.

Within the webhooks lane, receivers share fairly without a queue per receiver
(``connections/services/webhook_budget.py``): every endpoint and every partner has a budget of
sends in flight across all workers (kept in Redis, taken before a delivery is claimed; what is
over budget stays due and is picked when a slot is given back, round-robin between endpoints),
and a worker process lets only a few of its batches send to one endpoint, and fewer still to
endpoints whose receivers answer slowly, so a slow receiver never holds all its threads. (No
separate "slow" queue: a worker consuming several queues shares its threads between them, so
a queue would not bound the threads slow receivers hold; the per-process places do.)

A worker started without ``-Q`` consumes all three (``CELERY_TASK_QUEUES``); at scale, run
workers per lane (``-Q celery``, ``-Q celery-webhooks``, ``-Q celery-scheduled``) and size each
on its own. Routing reads the default queue when a task is sent, so a process that changes it
(the tests' private queues) routes its lanes beside it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from celery import current_app
from kombu import Exchange, Queue


class Lane(StrEnum):
    WEBHOOKS = "webhooks"
    SCHEDULED = "scheduled"


# Every task that does not run on the default queue, by name (tasks not listed run there).
LANE_OF: dict[str, Lane] = {
    "connections.tasks.deliver_webhook": Lane.WEBHOOKS,
    "connections.tasks.sweep_webhooks": Lane.WEBHOOKS,
    "connections.tasks.run_health_checks": Lane.SCHEDULED,
    "connections.tasks.schedule_health_checks": Lane.SCHEDULED,
    "connections.tasks.purge_stale_secrets": Lane.SCHEDULED,
    "connections.tasks.count_system_figures": Lane.SCHEDULED,
    "connections.tasks.run_sync": Lane.SCHEDULED,
    "connections.tasks.schedule_syncs": Lane.SCHEDULED,
}


def lane_queue(default: str, lane: Lane) -> str:
    return f"{default}-{lane}"


def lane_queues(default: str) -> list[str]:
    """The default queue and each lane's, as a worker consuming everything lists them."""
    return [default, *(lane_queue(default, lane) for lane in Lane)]


def declared_queues(default: str) -> list[Queue]:
    """``CELERY_TASK_QUEUES``: each queue on an exchange of its own name, bound by its name
    (a bare ``Queue(name)`` would be bound to the default queue's key, and get its tasks)."""
    return [Queue(name, Exchange(name), routing_key=name) for name in lane_queues(default)]


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any):
    """Celery router: a lane's tasks go to its queue beside the current default queue."""
    lane = LANE_OF.get(name)
    if lane is None:
        return None
    return {"queue": lane_queue(current_app.conf.task_default_queue, lane)}
