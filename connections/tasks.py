"""Celery tasks: thin, take ids, call one service."""

from celery import shared_task

from connections.services.validation import attempt_run


@shared_task(acks_late=True, ignore_result=True)
def run_validation(attempt_id: str) -> None:
    attempt_run(attempt_id=attempt_id)
