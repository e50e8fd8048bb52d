"""Catalog rows, synced from the definition files: what operators enable and users search."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemQuerySet(models.QuerySet):
    def listed(self) -> "SystemQuerySet":
        """Systems an end user may pick: enabled by an operator and present in the files."""
        return self.filter(enabled=True, in_catalog=True)

    def search(self, query: str) -> "SystemQuerySet":
        terms = query.lower().split()[:5]
        result = self
        for term in terms:
            result = result.filter(search_text__contains=term[:50])
        return result.order_by("-popularity", "name")


class System(models.Model):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, blank=True)
    categories = models.JSONField(default=list)
    logo = models.CharField(max_length=200, blank=True)
    popularity = models.IntegerField(default=0)
    search_text = models.TextField(editable=False, default="")
    enabled = models.BooleanField(default=True, help_text=_("Offer this system to end users."))
    coming_soon = models.BooleanField(default=False, editable=False)
    in_catalog = models.BooleanField(default=True, editable=False)
    definition_sha = models.CharField(max_length=64, editable=False, default="")
    synced_at = models.DateTimeField(null=True, editable=False)

    objects = SystemQuerySet.as_manager()

    class Meta:
        ordering = ["-popularity", "name"]

    def __str__(self) -> str:
        return self.name
