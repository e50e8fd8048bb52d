"""Draw the catalog tiles that show a vendor's mark (``catalog/brands.py``).

manage.py brand_tiles          # write static/catalog/logos/<slug>.svg for each mark
manage.py brand_tiles --check  # exit 1 when a tile is out of date (tests run this)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.brands import tiles


class Command(BaseCommand):
    help = "Draw the tiles of systems that show their vendor's mark."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="fail when a tile is stale")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        stale = [path for path, svg in tiles().items() if _read(path) != svg]
        if check and stale:
            names = ", ".join(path.name for path in stale)
            raise CommandError(f"brand tiles out of date: {names}; run manage.py brand_tiles")
        for path in [] if check else stale:
            path.write_text(tiles()[path])
            self.stdout.write(f"wrote {path.name}")


def _read(path: Any) -> str:
    return path.read_text() if path.exists() else ""
