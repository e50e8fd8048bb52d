"""The one step of every deploy, run once before gunicorn, the workers and beat start (README,
*Configuration*): what the code just deployed needs from the database, the disk and the
settings, in the order each needs the one before."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

# (command, its options): translations and static files for the web processes, the schema
# and the catalog for everyone, then the deployment checks, which read the migrated database
# (a key id still in use but missing from the ring is an error).
STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("compile_translations", {}),
    ("migrate", {"interactive": False}),
    ("collectstatic", {"interactive": False}),
    ("sync_catalog", {}),
    ("check", {"deploy": True, "databases": ["default"], "fail_level": "ERROR"}),
)


class Command(BaseCommand):
    help = (
        "Prepare a deploy: compile translations, migrate, collect static files, sync the "
        "catalog, and run the deployment checks (failing on errors). Run it at every deploy, "
        "before starting gunicorn, workers and beat."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, step_options in STEPS:
            self.stdout.write(self.style.MIGRATE_HEADING(f"release: {name}"))
            call_command(
                name,
                stdout=self.stdout,
                stderr=self.stderr,
                verbosity=options["verbosity"],
                **step_options,
            )
        self.stdout.write(self.style.SUCCESS("Release steps done: start the processes."))
