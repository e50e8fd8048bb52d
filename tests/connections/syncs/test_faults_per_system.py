"""The faults every system's sync must survive, against each seed system's stand-in: a worker
killed between pages (the run is taken over from its checkpoint: no record missed or written
twice), a connection revoked mid-sync (the run stops, what it synced is erased), and a full
re-sync of unchanged data (nothing written). The Sandbox ERP's are in ``test_sync_runs.py``;
the same with real processes in ``test_faults.py``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db.models import Max
from django.utils import timezone

from connections.models import Connection, SyncedRecord, SyncRun, SyncState
from connections.syncs import runs
from connections.syncs.models import RunStatus, SyncStatus
from connections.syncs.schedule import syncs_schedule
from tests.connections.syncs.remote import RemoteSyncs
from tests.connections.syncs.test_infoplus_vendors_items import infoplus  # noqa: F401
from tests.connections.syncs.test_infor_sxe import sxe  # noqa: F401 (fixtures)
from tests.connections.syncs.test_maintainx import maintainx  # noqa: F401
from tests.connections.syncs.test_mintsoft import mintsoft  # noqa: F401
from tests.connections.syncs.test_netsuite import netsuite  # noqa: F401

pytestmark = pytest.mark.django_db

# system fixture, a model it syncs in several pages, how many records a first sync finds
SYSTEMS = [
    pytest.param("netsuite", "purchase_orders", 600, id="netsuite"),
    pytest.param("mintsoft", "purchase_orders", 130, id="mintsoft"),
    pytest.param("sxe", "purchase_orders", 450, id="infor-sxe"),
    pytest.param("infoplus", "items", 120, id="infoplus"),
    pytest.param("maintainx", "work_orders", 150, id="maintainx"),
]


def starter(request: pytest.FixtureRequest, fixture: str, model: str) -> Callable[..., SyncRun]:
    """Start a sync of ``model`` as a partner does (``sync(mode)``), whatever the fixture."""
    last = request.getfixturevalue(fixture)[-1]
    if isinstance(last, RemoteSyncs):
        return lambda mode="incremental": last.sync(model, mode)
    return last  # MaintainX's fixture gives its own sync(mode)


@pytest.mark.parametrize(("fixture", "model", "total"), SYSTEMS)
def test_a_worker_killed_between_pages_is_taken_over_from_its_checkpoint(
    request, monkeypatch, django_capture_on_commit_callbacks, fixture, model, total
):
    sync = starter(request, fixture, model)
    page_store, stored = runs.page_store, []

    def killed_after_the_first_page(**kwargs):
        if stored:
            raise SystemExit("worker killed")  # page 2 read, never written
        stored.append(1)
        return page_store(**kwargs)

    monkeypatch.setattr(runs, "page_store", killed_after_the_first_page)
    with pytest.raises(SystemExit):
        sync()
    monkeypatch.setattr(runs, "page_store", page_store)
    state = SyncState.objects.get(model=model)
    first_page = SyncedRecord.objects.count()
    assert state.status == SyncStatus.RUNNING and 0 < first_page < total

    SyncState.objects.filter(pk=state.pk).update(claimed_until=timezone.now())  # lease lapsed
    with django_capture_on_commit_callbacks(execute=True):
        assert syncs_schedule() == 1

    state.refresh_from_db()
    assert state.run.status == RunStatus.SUCCEEDED and SyncRun.objects.count() == 1
    assert state.run.added == total and SyncedRecord.objects.count() == total
    # Each record written once: the change numbers run 1..n without a gap.
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == total


@pytest.mark.parametrize(("fixture", "model", "total"), SYSTEMS)
def test_a_revocation_mid_sync_stops_it_and_erases_what_it_synced(
    request, acme, monkeypatch, fixture, model, total
):
    sync = starter(request, fixture, model)
    connection = Connection.objects.get()
    page_read, reads = runs.page_read, []

    def revoked_while_reading(*args, **kwargs):
        if reads:
            deleted = acme.client().delete(f"/api/v1/connections/{connection.pk}")
            assert deleted.status_code in (200, 204)
        reads.append(1)
        return page_read(*args, **kwargs)

    monkeypatch.setattr(runs, "page_read", revoked_while_reading)
    sync()  # the run it started is gone with the connection's synced data

    assert len(reads) == 2
    assert not SyncedRecord.objects.exists() and not SyncState.objects.exists()
    connection.refresh_from_db()
    assert connection.status == "revoked"


@pytest.mark.parametrize(("fixture", "model", "total"), SYSTEMS)
def test_a_full_resync_of_unchanged_data_writes_nothing(request, fixture, model, total):
    sync = starter(request, fixture, model)
    assert sync().added == total
    last = SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"]

    run = sync("full")

    assert (run.mode, run.status) == ("full", RunStatus.SUCCEEDED)
    assert (run.added, run.updated, run.deleted, run.failed) == (0, 0, 0, 0)
    assert run.unchanged >= total  # keyset pages (SX.e) read each boundary record twice
    assert SyncedRecord.objects.aggregate(last=Max("change_seq"))["last"] == last
