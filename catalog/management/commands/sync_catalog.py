from typing import Any

from django.core.management.base import BaseCommand

from catalog.sync import catalog_sync


class Command(BaseCommand):
    help = "Sync catalog/systems/*.toml into the System table."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = catalog_sync()
        summary = ", ".join(f"{count} {state}" for state, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Catalog synced: {summary}."))
