"""Sync the definition files into ``System`` rows (``manage.py sync_catalog``)."""

import hashlib
import json
from dataclasses import asdict

from django.db import transaction
from django.utils import timezone

from catalog.models import System
from catalog.registry import definitions
from catalog.schema import SystemDefinition
from catalog.search import catalog_changed


@transaction.atomic
def catalog_sync() -> dict[str, int]:
    """Create or update a row per definition; mark rows whose file is gone as not listed.

    Operators' choices (``enabled``) are kept.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0, "removed": 0}
    current = definitions()
    for definition in current.values():
        counts[_sync_one(definition)] += 1
    gone = System.objects.exclude(slug__in=current).filter(in_catalog=True)
    counts["removed"] = gone.update(in_catalog=False)
    catalog_changed()  # now, and again once committed (a reader may rebuild in between)
    transaction.on_commit(catalog_changed)
    return counts


def _sync_one(definition: SystemDefinition) -> str:
    sha = hashlib.sha256(json.dumps(asdict(definition), sort_keys=True).encode()).hexdigest()
    fields = {
        "name": definition.name,
        "vendor": definition.vendor,
        "summary": definition.summary,
        "categories": list(definition.categories),
        "aliases": list(definition.aliases),
        "logo": definition.logo,
        "popularity": definition.popularity,
        "coming_soon": definition.coming_soon,
        "search_text": _search_text(definition),
        "in_catalog": True,
        "definition_sha": sha,
        "synced_at": timezone.now(),
    }
    row = System.objects.filter(slug=definition.slug).first()
    if row is None:
        System.objects.create(slug=definition.slug, **fields)
        return "created"
    if row.definition_sha == sha and row.in_catalog:
        return "unchanged"
    System.objects.filter(pk=row.pk).update(**fields)
    return "updated"


def _search_text(definition: SystemDefinition) -> str:
    words = [
        definition.name,
        definition.vendor,
        definition.slug,
        *definition.aliases,
        *definition.categories,
    ]
    return " ".join(words).lower()
