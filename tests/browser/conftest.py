"""Chromium (Debian's, driven by Playwright) and a partner page on another site."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Playwright, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--test-third-party-cookie-phaseout",
]

# Playwright's sync API keeps an event loop in the test thread for the rest of the session;
# the ORM calls tests make around browser steps are synchronous and safe. (Subprocesses that
# run production checks drop this variable.)
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# A busy machine answers slowly: assertions wait for a condition generously (Playwright's
# default is 5 s), as do actions (``set_default_timeout`` below).
expect.set_options(timeout=15_000)

PARTNER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Partner app</title></head>
<body>
<h1>Partner app</h1>
<button id="connect">Connect your ERP</button>
<script src="%(onramp)s/static/connect.js"></script>
<script>
  window.results = {events: [], metas: [], success: null, exit: null};
  document.getElementById("connect").addEventListener("click", function () {
    var query = new URLSearchParams(location.search);
    var options = {
      url: query.get("url"),
      onEvent: function (name, meta) { results.events.push(name); results.metas.push(meta); },
      onSuccess: function (token, meta) { results.success = {token: token, meta: meta}; },
      onExit: function (error, meta) { results.exit = {error: error, meta: meta}; }
    };
    if (query.get("stay") !== "1") options.closeDelay = 0;  // ?stay=1: connect.js's default
    Onramp.open(options);
  });
</script>
</body></html>"""


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does).")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright_driver: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh profile that blocks third-party cookies."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    preferences = {"profile": {"block_third_party_cookies": True, "cookie_controls_mode": 1}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_FLAGS,
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


class PartnerSite:
    """A partner's page served from 127.0.0.1 on its own port: a different site."""

    def __init__(self, onramp_url: str) -> None:
        page = (PARTNER_PAGE % {"onramp": onramp_url}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partner_site(onramp_server: str) -> Iterator[PartnerSite]:
    site = PartnerSite(onramp_server)
    yield site
    site.close()


def connect_sandbox(
    frame: FrameLocator,
    *,
    company: str = "demo",
    username: str = "demo",
    password: str = "sandbox-demo",
) -> None:
    """From the catalog screen: pick the Sandbox ERP, pass its guide, submit its details."""
    frame.get_by_role("option", name="Sandbox ERP").click()
    frame.get_by_role("link", name=re.compile("^Username and password")).click()
    frame.get_by_role("link", name=re.compile("enter details")).click()
    frame.get_by_label("Company ID").fill(company)
    frame.get_by_label("Username").fill(username)
    frame.get_by_label("Password").fill(password)
    frame.get_by_role("button", name="Connect").click()
