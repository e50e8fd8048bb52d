"""The catalog's one task: build the search index for a new catalog version, once for every
process (web processes only load it)."""

from celery import shared_task

from catalog.store import search_index_publish


@shared_task(name="catalog.tasks.catalog_index_build", ignore_result=True)
def catalog_index_build() -> None:
    search_index_publish()
