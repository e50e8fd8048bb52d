"""Celery beat's schedule, run in this process, for the embedded default.

Without a broker there is no beat and no worker: tasks run inline, in the request that sends
them, so nothing runs *later* — a webhook retry, the attempt sweeper, health checks. ``make
demo`` starts this command beside runserver to do that work. It reads ``CELERY_BEAT_SCHEDULE``
itself, so it runs exactly what beat would, at the same intervals; a separate process rather
than a thread in runserver, so nothing starts behind the back of tests, shells, migrations or
the autoreloader's second process. With a broker, run ``celery -A config beat`` and workers.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)
IDLE = 0.5  # seconds: the shortest sleep between looks at the schedule


class Command(BaseCommand):
    help = (
        "Run Celery beat's scheduled tasks (webhook retries, sweeps, health checks) in this "
        "process, for the embedded default (no broker). make demo starts it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run each task once, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "A broker is configured: run `celery -A config beat` and workers instead."
            )
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per run, else
        schedule = dict(settings.CELERY_BEAT_SCHEDULE)
        due = dict.fromkeys(schedule, 0.0)
        if not options["once"]:
            self.stdout.write(f"Running the scheduled work in this process: {', '.join(due)}.")
        while True:
            for name, entry in schedule.items():
                if due[name] <= time.monotonic():
                    _run(name, entry["task"])
                    due[name] = time.monotonic() + float(entry["schedule"])
            if options["once"]:
                return
            time.sleep(max(IDLE, min(due.values()) - time.monotonic()))


def _run(name: str, task: str) -> None:
    """One run of a task, inline; a failure is logged and the schedule goes on (as beat's
    would: the next run is the retry)."""
    try:
        current_app.tasks[task].apply(throw=True)
    except DatabaseError:
        logger.exception("scheduled task %s failed", name)
        connections.close_all()  # the database went away: the next run connects afresh
    except Exception:
        logger.exception("scheduled task %s failed", name)
