"""``manage.py sync_field_tables``: regenerate the README's sync field tables from the models
and the systems' mappings (``--check``: only say whether they are current)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connections.syncs.fields import readme_path, readme_with_tables


class Command(BaseCommand):
    help = "Regenerate the README's sync field tables from the mappings."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="fail if they are stale")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        path = readme_path()
        current = path.read_text(encoding="utf-8")
        try:
            updated = readme_with_tables(current)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if updated == current:
            self.stdout.write("The README's sync field tables are current.")
        elif check:
            raise CommandError("The README's sync field tables are stale: run sync_field_tables.")
        else:
            path.write_text(updated, encoding="utf-8")
            self.stdout.write("The README's sync field tables were regenerated.")
