"""The audit trail in the operators' admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from connections.admin.base import LargeTableAdmin
from connections.events import EventKind
from connections.models import Event


class KindFilter(admin.SimpleListFilter):
    """The kinds from the vocabulary (no ``SELECT DISTINCT`` over the whole trail)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(kind.value, kind.value) for kind in EventKind]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(LargeTableAdmin):
    list_display = ["created_at", "kind", "actor", "partner", "connection"]
    list_filter = [KindFilter, "partner", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["partner", "connection"]  # the connection may be null: named
    search_fields = ["kind", "actor", "connection__id"]
