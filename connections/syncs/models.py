"""What syncs store: per connection and model a ``SyncState`` (its schedule, checkpoint and
high-water mark), a ``SyncRun`` per run (counts, errors), and the ``SyncedRecord`` rows the
partner API reads.

Every write of a record takes the next number of its ``SyncState``'s change counter (under
that row's lock, and one run writes a (connection, model) at a time), so the partner's cursor
over ``change_seq`` never skips a change that commits after it, nor repeats one.

Imported by ``connections/models.py`` (the app's models); refers to ``Connection`` by name.
"""

from __future__ import annotations

import secrets
import string

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_ALPHABET = string.ascii_letters + string.digits


def _random(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def new_sync_id() -> str:
    return _random("sync")


def new_sync_run_id() -> str:
    return _random("syr")


class SyncStatus(models.TextChoices):
    IDLE = "idle", _("Idle")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    # The system asked Onramp to slow down (429): the run goes on after its Retry-After.
    WAITING = "waiting", _("Waiting (rate limited)")


BUSY = (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.WAITING)


class SyncMode(models.TextChoices):
    INITIAL = "initial", _("Initial")
    INCREMENTAL = "incremental", _("Incremental")
    FULL = "full", _("Full")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    STOPPED = "stopped", _("Stopped (connection not active)")


class SyncState(models.Model):
    """One model of one connection: when it runs next, where a run stands (``checkpoint``),
    and what the last successful run reached (``high_water_mark``)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_sync_id, editable=False)
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.CASCADE, related_name="syncs"
    )
    model = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.IDLE)
    mode = models.CharField(max_length=16, choices=SyncMode.choices, default=SyncMode.INITIAL)
    run = models.ForeignKey(
        "connections.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The running run's window start, pagination position and newest modified time so far.
    checkpoint = models.JSONField(default=dict, blank=True)
    high_water_mark = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A running run's lease: past it, the scheduler takes the worker for dead and resumes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Who holds the claim: a worker whose lease lapsed and was taken over writes nothing more.
    claimed_by = models.CharField(max_length=32, blank=True, editable=False)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    change_counter = models.PositiveBigIntegerField(default=0, editable=False)
    last_error_code = models.CharField(max_length=63, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "model"], name="one_sync_per_model")
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.model}"


class SyncRun(models.Model):
    """One run of a sync, from its first page to its end (across resumed workers)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_sync_run_id, editable=False)
    state = models.ForeignKey(SyncState, on_delete=models.CASCADE, related_name="runs")
    mode = models.CharField(max_length=16, choices=SyncMode.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    since = models.DateTimeField(null=True, blank=True)  # the window's start
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Records that could not be mapped: [{"id", "field", "message"}], the first few.
    errors = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=63, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "-started_at"], name="sync_run_newest")]

    def __str__(self) -> str:
        return self.id


class SyncedRecord(models.Model):
    """One record of a customer's system in its unified form (``data``) and as it came
    (``raw``). ``change_seq`` orders the partner's feed; ``changed_at`` is when Onramp saw
    the change (``modified_after`` filters on it)."""

    id = models.BigAutoField(primary_key=True)
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.CASCADE, related_name="+"
    )
    model = models.CharField(max_length=32)
    remote_id = models.CharField(max_length=255)
    content_hash = models.CharField(max_length=64)
    data = models.JSONField()
    raw = models.JSONField()
    deleted = models.BooleanField(default=False)
    remote_modified_at = models.DateTimeField(null=True, blank=True)
    # The last full run that listed it, for systems whose deletions only show as absence
    # (``reconcile``): what a full run did not list is deleted at its end.
    seen_in = models.CharField(max_length=32, blank=True)
    change_seq = models.PositiveBigIntegerField()
    changed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "model", "remote_id"], name="one_record_per_remote_id"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "model", "change_seq"], name="synced_record_feed")
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.remote_id}"
