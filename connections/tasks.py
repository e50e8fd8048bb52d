"""Celery tasks: thin, take ids, call one service. Every one is safe to run twice."""

from celery import shared_task
from django.db import Error as DatabaseError

from connections.agents.presence import agents_lost_sweep
from connections.dispatch import Task
from connections.security.token_cache import stale_entries_sweep
from connections.services.attempts import attempt_run, attempt_sweep
from connections.services.encryption import stale_secrets_purge
from connections.services.health import (
    health_checks_run,
    health_checks_start,
    oauth_tokens_refresh_due,
)
from connections.services.oauth import remote_revocations_send
from connections.services.system_figures import system_figures_count
from connections.services.webhook_deliveries import webhook_deliver, webhook_sweep
from connections.syncs.runs import sync_run
from connections.syncs.schedule import syncs_schedule


@shared_task(
    name=Task.RUN_VALIDATION,
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=1,
    retry_backoff_max=20,
    max_retries=5,
)
def run_validation(self, attempt_id: str) -> None:  # noqa: ANN001
    """A database error mid-run retries the same delivery (it keeps its claim); past the
    retries, the sweeper ends the attempt."""
    attempt_run(attempt_id=attempt_id, run_id=self.request.id or f"inline:{attempt_id}")


@shared_task(name=Task.DELIVER_WEBHOOK, acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: str = "") -> None:
    """A batch of due deliveries, ``delivery_id`` first (none named: whatever is due).
    Retries are scheduled on the delivery row, not here (they outlive a broker)."""
    webhook_deliver(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> None:
    """Every ``ONRAMP_SWEEP_INTERVAL`` from Celery beat: send what is due and unsent."""
    webhook_sweep()


@shared_task(ignore_result=True)
def sweep_attempts() -> None:
    """Every ``ONRAMP_SWEEP_INTERVAL`` from Celery beat."""
    attempt_sweep()


@shared_task(ignore_result=True)
def sweep_agents() -> None:
    """Every ``ONRAMP_AGENT_GRACE`` seconds from Celery beat: agents whose hub stopped
    saying they are there (a hub that died) become offline, their connections agent_offline."""
    agents_lost_sweep()


@shared_task(ignore_result=True)
def sweep_token_cache() -> None:
    """Every ``ONRAMP_SWEEP_INTERVAL`` from Celery beat: what an outage kept from the cache."""
    stale_entries_sweep()


@shared_task(name=Task.RUN_HEALTH_CHECKS, acks_late=True, ignore_result=True)
def run_health_checks(connection_ids: list[str]) -> None:
    """A chunk of claimed health checks (a lost chunk is due again after its lease)."""
    health_checks_run(connection_ids=connection_ids)


@shared_task(ignore_result=True)
def schedule_health_checks() -> None:
    """Every few minutes from Celery beat: start the connection checks that are due."""
    health_checks_start()


@shared_task(ignore_result=True)
def refresh_oauth_tokens() -> None:
    """Every few minutes from Celery beat: refresh access tokens before they expire."""
    oauth_tokens_refresh_due()


@shared_task(ignore_result=True)
def purge_stale_secrets() -> None:
    """Hourly from Celery beat (see README); also retries revocations at providers."""
    stale_secrets_purge()
    remote_revocations_send()


@shared_task(ignore_result=True)
def count_system_figures() -> None:
    """Every ``ONRAMP_SYSTEM_FIGURES_INTERVAL`` from Celery beat: the systems page's figures."""
    system_figures_count()


@shared_task(name=Task.RUN_SYNC, acks_late=True, ignore_result=True)
def run_sync(state_id: str) -> None:
    """One (connection, model)'s run, a batch of pages; it sends the rest as a new task."""
    sync_run(state_id=state_id)


@shared_task(ignore_result=True)
def schedule_syncs() -> None:
    """Every ``ONRAMP_SYNC_SCHEDULE_INTERVAL`` from Celery beat: start the syncs that are due."""
    syncs_schedule()
