import os
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from catalog import sandbox_oauth
from connections.demo import demo_key_file
from connections.models import Mode, Partner
from connections.services.oauth import oauth_app_set
from connections.services.partners import (
    origin_normalize,
    partner_key_create,
    partner_key_revoke,
)

DEMO_PARTNER = "Acme Analytics (demo)"


class Command(BaseCommand):
    help = "Create or refresh the demo partner and give it a new secret key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default=settings.ONRAMP_PUBLIC_URL)

    def handle(self, *args: Any, **options: Any) -> None:
        port = urlsplit(options["base_url"]).port or 80
        origins = [
            origin_normalize(f"http://localhost:{port}"),
            origin_normalize(f"http://127.0.0.1:{port}"),
        ]
        partner, _ = Partner.objects.get_or_create(
            name=DEMO_PARTNER, defaults={"display_name": "Acme Analytics"}
        )
        partner.allowed_origins = origins
        partner.save(update_fields=["allowed_origins"])
        for key in partner.keys.filter(revoked_at=None, label="demo"):
            partner_key_revoke(key=key, actor="cli:seed_demo")
        _, secret = partner_key_create(partner=partner, actor="cli:seed_demo", label="demo")
        _, test_secret = partner_key_create(  # to build against: README, "Develop locally"
            partner=partner, actor="cli:seed_demo", label="demo", mode=Mode.TEST
        )
        oauth_app_set(  # the Sandbox ERP's practice sign-in accepts its one published client
            partner=partner,
            system="sandbox-erp",
            client_id=sandbox_oauth.CLIENT_ID,
            client_secret=sandbox_oauth.CLIENT_SECRET,
            actor="cli:seed_demo",
        )
        self._save_key(secret)
        self.stdout.write(self.style.SUCCESS("Demo partner ready."))
        self.stdout.write(f"  Demo page:          http://localhost:{port}/demo/")
        self.stdout.write(
            f"  Admin:              {options['base_url']}/admin/ "
            "(python manage.py createsuperuser)"
        )
        self.stdout.write(f"  API docs:           {options['base_url']}/api/v1/docs")
        self.stdout.write(f"  Partner secret key: {secret}")
        self.stdout.write(f"  Test secret key:    {test_secret}")

    def _save_key(self, secret: str) -> None:
        path = demo_key_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
