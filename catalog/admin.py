from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog.models import System


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "vendor",
        "enabled",
        "coming_soon",
        "in_catalog",
        "popularity",
        "synced_at",
    ]
    list_filter = ["enabled", "in_catalog", "coming_soon"]
    search_fields = ["name", "slug", "vendor", "search_text"]
    readonly_fields = [
        "slug",
        "name",
        "vendor",
        "summary",
        "categories",
        "logo",
        "search_text",
        "coming_soon",
        "in_catalog",
        "definition_sha",
        "synced_at",
    ]
    actions = ["enable", "disable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from catalog/systems/*.toml

    @admin.action(description="Enable selected systems")
    def enable(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        count = queryset.update(enabled=True)
        self.message_user(request, f"Enabled {count} system(s).", messages.SUCCESS)

    @admin.action(description="Disable selected systems")
    def disable(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        count = queryset.update(enabled=False)
        self.message_user(request, f"Disabled {count} system(s).", messages.SUCCESS)
