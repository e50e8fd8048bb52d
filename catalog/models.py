"""Catalog rows, synced from the definition files: what operators enable and users search."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemQuerySet(models.QuerySet):
    def listed(self) -> "SystemQuerySet":
        """Systems an end user may pick: enabled by an operator and present in the files."""
        return self.filter(enabled=True, in_catalog=True)


class System(models.Model):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, blank=True)
    categories = models.JSONField(default=list)
    aliases = models.JSONField(default=list)
    logo = models.CharField(max_length=200, blank=True)
    popularity = models.IntegerField(default=0)
    search_text = models.TextField(editable=False, default="")
    enabled = models.BooleanField(default=True, help_text=_("Offer this system to end users."))
    pinned = models.BooleanField(
        default=False, help_text=_("Show it first among popular systems and in results.")
    )
    coming_soon = models.BooleanField(default=False, editable=False)
    in_catalog = models.BooleanField(default=True, editable=False)
    definition_sha = models.CharField(max_length=64, editable=False, default="")
    synced_at = models.DateTimeField(null=True, editable=False)

    objects = SystemQuerySet.as_manager()

    class Meta:
        ordering = ["-pinned", "-popularity", "name"]

    def __str__(self) -> str:
        return self.name


class SystemRequest(models.Model):
    """A system an end user looked for and did not find ("Can't find your system?")."""

    name = models.CharField(max_length=120)
    normalized = models.CharField(max_length=120, db_index=True, editable=False)
    partner_id = models.CharField(max_length=32, db_index=True)
    link_session_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [  # one per name per session: a double submit does not count twice
            models.UniqueConstraint(
                fields=["link_session_id", "normalized"],
                condition=~models.Q(link_session_id=""),
                name="one_request_per_name_per_session",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SearchIndex(models.Model):
    """The catalog's search index, built once per catalog version (by a worker) and loaded
    by every web process: one row, replaced by each build (``catalog/store.py``)."""

    version = models.CharField(max_length=32)
    data = models.BinaryField()  # zlib-compressed ``catalog.indexer.index_bytes``
    size = models.IntegerField(default=0)  # of the buffer, uncompressed
    systems = models.IntegerField(default=0)
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"search index {self.version} ({self.systems} systems)"
