"""``manage.py run_agent_hub``: the asyncio process on-premises agents connect to
(``connections/agents/hub.py``); not a web worker."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from connections.agents.hub import Hub


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class Command(BaseCommand):
    help = "Hold on-premises agents' connections and relay Onramp's calls through them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", default=settings.ONRAMP_AGENT_HUB_LISTEN)
        parser.add_argument("--proxy-listen", default=settings.ONRAMP_AGENT_PROXY_LISTEN)
        parser.add_argument(
            "--proxy-address",
            default="",
            help="How Onramp's workers reach this hub's proxy (default: --proxy-listen).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hub = Hub(
            proxy_address=options["proxy_address"] or options["proxy_listen"],
            grace=settings.ONRAMP_AGENT_GRACE,
            heartbeat=settings.ONRAMP_AGENT_HEARTBEAT,
        )
        listen, proxy = _address(options["listen"]), _address(options["proxy_listen"])
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(hub.serve(listen, proxy))
