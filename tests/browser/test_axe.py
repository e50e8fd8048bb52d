"""axe-core (vendored from npm's axe-core, injected by Playwright) on every screen of the
flow, in every language, at phone and desktop widths: no violations of WCAG 2.1 A/AA."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from catalog.sync import catalog_sync
from connections.models import LinkSession, ValidationAttempt
from connections.services.partners import partner_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
RUN_AXE = """async () => {
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    });
    const where = (v) => v.nodes.map(n => n.target.join(" ")).join(", ");
    return result.violations.map(v => `${v.id}: ${where(v)}`);
}"""
LANGUAGES = ["en", "de", "fr", "es"]
WIDTHS = [375, 1280]


def violations(page: Page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE)  # through the DevTools protocol: the page's CSP does not apply
    return page.evaluate(RUN_AXE)


def sessions(locale: str) -> tuple[str, str, LinkSession]:
    """Two link URLs (one to walk, one to lock) and the first session."""
    catalog_sync()
    _, secret = partner_create(name="Partner", origins=["https://app.partner.test"], actor="test")
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    made = [
        api.post(
            "/api/v1/link-sessions",
            {"end_user": {"id": f"u-{n}"}, "locale": locale},
            content_type="application/json",
        ).json()
        for n in range(2)
    ]
    return made[0]["url"], made[1]["url"], LinkSession.objects.get(pk=made[0]["id"])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_screen_has_no_violations(browser, onramp_server, locale, width):
    walk, locked_url, session = sessions(locale)
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        found[name] = violations(page)

    page.goto(walk)
    expect(page.locator("html")).to_have_attribute("lang", locale)
    check("choose")
    page.goto(walk + "systems/?q=zzzz")
    check("no results, can't find it")
    page.goto(walk + "s/netsuite/")
    check("method")
    page.goto(walk + "s/netsuite/m2m/")
    check("guide")
    page.goto(walk + "s/sandbox-erp/password/")
    check("guide with choices")
    page.goto(walk + "s/netsuite/tba/details/")
    check("details with secrets")
    page.goto(walk + "s/sandbox-erp/password/details/")
    page.locator("form[data-onramp-submit] button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_focused()
    check("details with errors")
    page.locator(".flow-header [data-onramp-close]").click()
    expect(page.locator("#leave-dialog")).to_be_visible()
    check("leave dialog")
    failed = ValidationAttempt.objects.create(
        link_session=session,
        system_slug="sandbox-erp",
        method="password",
        status="failed",
        error_code="invalid_credentials",
        error_message="The system rejected these credentials.",
        error_advice="Check them and try again.",
        steps={"reach": "done", "authenticate": "failed"},
        finished_at=timezone.now(),
    )
    page.goto(walk + f"attempts/{failed.id}/")
    check("check failed")
    missing = ValidationAttempt.objects.create(
        link_session=session,
        system_slug="sandbox-erp",
        method="password",
        status="failed",
        error_code="forbidden",
        error_message="Signed in, but the account is missing a permission: Orders: read.",
        error_advice="Ask an administrator to grant it to the user or role, then try again.",
        steps={
            "reach": "done",
            "authenticate": "done",
            "test_call": "done",
            "permissions": "failed",
        },
        finished_at=timezone.now(),
    )
    page.goto(walk + f"attempts/{missing.id}/")
    check("missing permission, hand-off")
    LinkSession.objects.exclude(pk=session.pk).update(locked_at=timezone.now())
    page.goto(locked_url)
    check("locked")
    LinkSession.objects.filter(pk=session.pk).update(locked_at=timezone.now())
    page.goto(walk + f"attempts/{failed.id}/")
    check("locked by the check that failed")
    assert {name: found_ for name, found_ in found.items() if found_} == {}


def test_the_checker_finds_a_real_violation(browser, onramp_server):
    """So that 'no violations' above means something: a broken page fails."""
    walk, _, _ = sessions("en")
    page = browser.new_page()
    page.goto(walk)
    page.evaluate(
        """() => {
            const image = document.createElement("img");
            image.src = "/static/catalog/logos/netsuite.svg";
            document.querySelector("#flow").appendChild(image);
            const low = document.createElement("p");
            low.textContent = "Hard to read";
            low.style.color = "#f3f4f6";
            document.querySelector("#flow").appendChild(low);
        }"""
    )
    found = " ".join(violations(page))
    assert "image-alt" in found and "color-contrast" in found
