"""The search index is built once per catalog version and shared: a process other than the
one that changed the catalog loads the stored index (it never builds its own), keeps
answering from the one it has while it loads, and then searches the new catalog.

``LoadedIndex()`` plays another web process: it holds its own index, as a process does."""

from __future__ import annotations

import threading
import time
import zlib

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from catalog import search
from catalog.models import SearchIndex, System
from catalog.search import LoadedIndex, catalog_changed
from catalog.store import VERSION_KEY, search_index_announce, search_index_publish
from catalog.sync import catalog_sync
from catalog.tasks import catalog_index_build
from tests.catalog.reference_search import Index as ReferenceIndex
from tests.catalog.reference_search import _entry


def slugs(process: LoadedIndex, query: str) -> list[str]:
    return [entry.slug for entry in process.current().search(query, None, "", 50)]


@pytest.mark.django_db
def test_another_process_loads_the_index_built_once_and_never_reads_the_catalog():
    catalog_sync()
    other = LoadedIndex()
    with CaptureQueriesContext(connection) as queries:
        assert slugs(other, "netsute")[0] == "netsuite"
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "catalog_searchindex" in tables and "catalog_system" not in tables
    with CaptureQueriesContext(connection) as queries:
        slugs(other, "xero")
    assert queries.captured_queries == []  # loaded: a search is a cache read, no query


@pytest.mark.django_db
def test_a_change_announced_again_with_nothing_new_is_not_loaded_again():
    catalog_sync()
    other = LoadedIndex()
    index = other.current()
    search_index_announce("an announcement of nothing new")
    with CaptureQueriesContext(connection) as queries:
        assert other.current() is index
    assert len(queries.captured_queries) == 1  # which version is stored: the same one


@pytest.mark.django_db
def test_a_new_installation_builds_its_index_on_the_first_search():
    catalog_sync()
    SearchIndex.objects.all().delete()
    assert slugs(LoadedIndex(), "xero")[0] == "xero"
    assert SearchIndex.objects.get().systems == System.objects.listed().count()


@pytest.mark.django_db
def test_an_index_stored_by_another_release_is_built_again():
    catalog_sync()
    older = b"ONRIDX0\nan index in an older format"
    SearchIndex.objects.update(data=zlib.compress(older), size=len(older))
    assert slugs(LoadedIndex(), "xero")[0] == "xero"


@pytest.mark.django_db
def test_the_cache_losing_the_announcement_changes_nothing():
    catalog_sync()
    other = LoadedIndex()
    other.current()
    version = other.version
    cache.delete(VERSION_KEY)
    assert slugs(other, "xero")[0] == "xero" and other.version == version


@pytest.mark.django_db(transaction=True)
def test_an_operators_switch_reaches_another_process_which_answers_meanwhile(settings):
    """The other process hears of the change on a search, answers it from the index it has,
    loads the new one in a thread (held here until the test lets it go) and then finds the
    system gone: no search waits for the load."""
    settings.ONRAMP_CATALOG_REBUILD_BEHIND = True
    catalog_sync()
    other = LoadedIndex()
    assert slugs(other, "xero")[0] == "xero"
    let_go, reading = threading.Event(), threading.Event()
    read = search.search_index_read

    def held_read() -> object:
        reading.set()
        assert let_go.wait(60)
        return read()

    search.search_index_read = held_read
    try:
        System.objects.filter(slug="xero").update(enabled=False)  # an operator's switch
        catalog_changed()  # once committed: built once, stored, announced
        assert slugs(other, "xero")[0] == "xero"  # the old index answers at once
        assert reading.wait(60)  # its load is under way, held
        assert slugs(other, "xero")[0] == "xero"  # still answering, without waiting
    finally:
        let_go.set()
        search.search_index_read = read
    deadline = time.monotonic() + 60
    while "xero" in slugs(other, "xero") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "xero" not in slugs(other, "xero")


@pytest.mark.django_db(transaction=True)
def test_a_lost_announcement_delays_a_change_only_until_the_next_check(settings, monkeypatch):
    """Redis out while an operator switched a system: nobody heard. Each process reads the
    stored version now and then anyway, behind its searches."""
    settings.ONRAMP_CATALOG_REBUILD_BEHIND = True
    catalog_sync()
    other = LoadedIndex()
    assert slugs(other, "xero")[0] == "xero"
    heard = cache.get(VERSION_KEY)
    System.objects.filter(slug="xero").update(enabled=False)
    search_index_publish()
    cache.set(VERSION_KEY, heard, timeout=None)  # the announcement lost
    assert slugs(other, "xero")[0] == "xero"  # nothing heard, not due yet
    monkeypatch.setattr(search, "RECHECK_SECONDS", 0.0)
    deadline = time.monotonic() + 60
    while "xero" in slugs(other, "xero") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "xero" not in slugs(other, "xero")


@pytest.mark.django_db(transaction=True)
def test_builds_one_after_another_store_the_latest_catalog():
    catalog_sync()
    System.objects.filter(slug="xero").update(enabled=False)
    first = search_index_publish()
    System.objects.filter(slug="xero").update(enabled=True)
    second = search_index_publish()
    assert first != second and SearchIndex.objects.get().version == second
    assert slugs(LoadedIndex(), "xero")[0] == "xero"


@pytest.mark.django_db
def test_without_a_broker_the_change_is_built_where_it_was_made(monkeypatch):
    catalog_sync()

    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(catalog_index_build, "apply_async", broker_down)
    System.objects.filter(slug="xero").update(enabled=False)
    catalog_changed()
    assert "xero" not in slugs(LoadedIndex(), "xero")


QUERIES = ["netsuite", "netsute", "acu", "buisness central", "a", "zz", "inventory", "ship",
           "mint", "zzzz qqqq", "cloud erp", "wms", "sap b1", "oracle", "d365fo", "infor sx",
           "shop", "maint", "s", "e", "book", "quickbook", "odoo"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("category", ["", "wms", "accounting", "none such"])
def test_results_are_those_of_the_index_before_it_was_shared(category):
    """The same catalog in the search as it was (a dictionary per word, an object per
    system) and in the shared index: the same systems, in the same order, for every query,
    whole catalog or a session's few."""
    catalog_sync()
    rows = System.objects.listed().values_list(
        "slug", "name", "vendor", "aliases", "categories", "popularity", "pinned", "logo",
        "coming_soon",
    ).order_by("-pinned", "-popularity", "name", "slug")  # fmt: skip
    before = ReferenceIndex([_entry(*row) for row in rows])
    now = LoadedIndex().current()
    for allowed in (None, frozenset(["netsuite", "xero", "infoplus", "odoo", "katana"])):
        for query in QUERIES:
            expected = [e.slug for e in before.search(query, allowed, category, 10)]
            assert [e.slug for e in now.search(query, allowed, category, 10)] == expected
    assert now.categories(None) == before.categories(None)
