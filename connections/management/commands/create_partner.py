from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connections.errors import OnrampError
from connections.models import Mode
from connections.services.partners import partner_create


class Command(BaseCommand):
    help = "Create a partner and print its secret API key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            help="An origin allowed to embed the flow (repeatable).",
        )
        parser.add_argument(
            "--test",
            action="store_true",
            help="Give it a test key (onr_sk_test_…: the Sandbox ERP and test connections "
            "only) instead of a live one, to build an integration safely.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner, secret = partner_create(
                name=options["name"],
                origins=options["origin"],
                actor="cli:create_partner",
                mode=Mode.TEST if options["test"] else Mode.LIVE,
            )
        except OnrampError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Partner {partner.id} ({partner.name}) created.")
        mode = "Test secret key" if options["test"] else "Secret key"
        self.stdout.write(f"{mode} (shown once, store it now): {secret}")
