from typing import Any

from django.core.management.base import BaseCommand

from connections.services.encryption import stale_secrets_purge


class Command(BaseCommand):
    help = (
        "Erase secrets left on link sessions that expired more than a day ago "
        "without a connection."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = stale_secrets_purge()
        self.stdout.write(
            f"Erased secrets of {counts['attempts']} attempt(s) and "
            f"{counts['signing_keys']} signing key(s)."
        )
