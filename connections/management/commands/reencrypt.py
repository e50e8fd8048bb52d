from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from connections.services.keys import reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the newest key of ONRAMP_ENCRYPTION_KEYS. "
        "Idempotent and resumable: rows already under the newest key are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = reencrypt_all(batch_size=options["batch_size"])
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS("Done."))
