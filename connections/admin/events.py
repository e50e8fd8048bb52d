"""The audit trail in the operators' admin."""

from __future__ import annotations

from django.contrib import admin

from connections.admin.base import ReadOnlyAdmin
from connections.models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "actor", "partner", "connection"]
    list_filter = ["kind", "partner"]
    search_fields = ["kind", "actor", "connection__id"]
