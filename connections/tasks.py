"""Celery tasks: thin, take ids, call one service."""

from celery import shared_task

from connections.services.keys import stale_secrets_purge
from connections.services.validation import attempt_run


@shared_task(acks_late=True, ignore_result=True)
def run_validation(attempt_id: str) -> None:
    attempt_run(attempt_id=attempt_id)


@shared_task(ignore_result=True)
def purge_stale_secrets() -> None:
    """Schedule hourly with Celery beat (see README)."""
    stale_secrets_purge()
