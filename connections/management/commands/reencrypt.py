from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connections.services.encryption import keys_in_use, keys_missing, reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the newest key of ONRAMP_ENCRYPTION_KEYS. "
        "Idempotent and resumable: rows already under the newest key are skipped. "
        "--check only reports which key ids are in use, and fails if one is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--check", action="store_true", help="report key ids in use; re-encrypt nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            return self._check()
        counts = reencrypt_all(batch_size=options["batch_size"])
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS("Done."))

    def _check(self) -> None:
        for key_id, count in sorted(keys_in_use().items()):
            self.stdout.write(f"{key_id}: {count} secret(s)")
        if missing := keys_missing():
            names = ", ".join(sorted(missing))
            raise CommandError(f"Key id(s) in use but missing from the key ring: {names}.")
        self.stdout.write(self.style.SUCCESS("Every key in use is in the key ring."))
