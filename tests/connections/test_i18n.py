"""Four languages: the session's locale or the browser's, a switcher, the catalog's guides and
the failure messages translated, and catalogues with nothing left untranslated."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from connections.languages import QUOTATION_MARKS
from connections.models import LinkSession, ValidationAttempt
from tests.factories import link_session

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)
CATALOGUES = sorted(
    [*ROOT.glob("locale/*/LC_MESSAGES/django.po"), *ROOT.glob("catalog/locale/*/LC_MESSAGES/*.po")]
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


@pytest.fixture(scope="module", autouse=True)
def compiled():
    call_command("compile_translations", verbosity=0)


def page(client: Client, url: str, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("locale", "heading"),
    [
        ("en", "Which system do you use?"),
        ("de", "Welches System verwenden Sie?"),
        ("fr", "Quel système utilisez-vous ?"),
        ("es", "¿Qué sistema usa?"),
    ],
)
def test_the_sessions_locale_picks_the_language(acme, locale, heading):
    _, token = link_session(acme.partner, locale=locale)
    html = page(Client(), f"/connect/{token}/")
    assert f'<html lang="{locale}">' in html
    assert heading.replace("'", "&#x27;") in html.replace("\u202f", " ").replace("\xa0", " ")


def test_without_a_locale_the_browsers_language_is_used_and_kept(acme):
    session, token = link_session(acme.partner)
    assert session.locale == ""
    page(Client(), f"/connect/{token}/", **{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert LinkSession.objects.get(pk=session.pk).locale == "fr"
    later = page(Client(), f"/connect/{token}/", **{"Accept-Language": "de"})
    assert '<html lang="fr">' in later  # the session keeps the language it opened in


def test_an_unknown_browser_language_falls_back_to_english(acme):
    _, token = link_session(acme.partner)
    html = page(Client(), f"/connect/{token}/", **{"Accept-Language": "ja,zh;q=0.8"})
    assert '<html lang="en">' in html


def test_the_switcher_changes_the_language_and_returns_to_the_screen(acme):
    session, token = link_session(acme.partner, locale="en")
    base = f"/connect/{token}/"
    client = Client()
    answer = client.post(base + "language/", {"locale": "es", "next": base + "s/infoplus/"})
    assert answer.status_code == 303 and answer["Location"] == base + "s/infoplus/"
    assert LinkSession.objects.get(pk=session.pk).locale == "es"
    away = client.post(base + "language/", {"locale": "de", "next": "https://evil.test/"})
    assert away["Location"] == base
    ignored = client.post(base + "language/", {"locale": "xx", "next": base})
    assert ignored.status_code == 303 and LinkSession.objects.get(pk=session.pk).locale == "de"


def test_guides_labels_and_field_errors_from_the_catalog_are_translated(acme):
    _, token = link_session(acme.partner, locale="de")
    base = f"/connect/{token}/"
    guide = page(Client(), base + "s/sandbox-erp/password/")
    assert "Before you connect" not in guide
    details = Client().post(
        base + "s/infoplus/api_key/details/", {"site": "not a site!", "api_key": "k"}
    )
    assert details.status_code == 422
    html = details.content.decode()
    assert "Enter just the first part" not in html and "Infoplus" in html


@pytest.mark.parametrize(("given", "stored"), [("de-DE", "de"), ("FR", "fr"), ("", "")])
def test_the_api_takes_a_locale_and_refuses_an_unknown_one(api, given, stored):
    body = {"end_user": {"id": "u"}, "locale": given}
    created = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert created.status_code == 201
    assert LinkSession.objects.get(pk=created.json()["id"]).locale == stored


def test_an_unsupported_locale_is_a_clear_400(api):
    body = {"end_user": {"id": "u"}, "locale": "tlh"}
    refused = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unsupported_locale"


def test_every_catalogue_is_complete_and_keeps_its_placeholders():
    assert {path.parts[-3] for path in CATALOGUES} == {"de", "fr", "es"}
    for path in CATALOGUES:
        catalogue = polib.pofile(str(path))
        missing = [entry.msgid for entry in catalogue.untranslated_entries()]
        assert not missing, f"{path}: {len(missing)} untranslated, e.g. {missing[:3]}"
        assert not catalogue.fuzzy_entries(), f"{path}: fuzzy entries"
        for entry in catalogue.translated_entries():
            translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
            for text in translations:
                assert sorted(PLACEHOLDER.findall(text)) == sorted(
                    PLACEHOLDER.findall(entry.msgid_plural or entry.msgid)
                ), f"{path}: placeholders differ in {entry.msgid!r}"


def test_the_catalogs_strings_are_extracted_and_translated():
    from catalog.messages import MESSAGES

    call_command("catalog_messages", check=True)  # fails when a definition changed since
    for language in ("de", "fr", "es"):
        path = ROOT / f"catalog/locale/{language}/LC_MESSAGES/django.po"
        translated = {entry.msgid for entry in polib.pofile(str(path)).translated_entries()}
        assert set(MESSAGES) <= translated, f"{language}: {set(MESSAGES) - translated}"


def test_a_shared_guide_reads_in_the_sharers_language_else_the_readers(catalog):
    shared = Client().get("/guides/sandbox-erp/password/?lang=de").content.decode()
    assert '<html lang="de">' in shared
    french = Client().get("/guides/sandbox-erp/password/", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in french.content.decode()


def varies_on(response) -> set[str]:
    return {name.strip().lower() for name in response.get("Vary", "").split(",") if name}


def test_a_screen_in_the_browsers_language_says_so_to_caches(acme):
    _, token = link_session(acme.partner)
    first = Client().get(f"/connect/{token}/", headers={"Accept-Language": "de"})
    assert "accept-language" in varies_on(first) and "no-store" in first["Cache-Control"]
    _, partners_choice = link_session(acme.partner, locale="fr")
    fixed = Client().get(f"/connect/{partners_choice}/", headers={"Accept-Language": "de"})
    assert "accept-language" not in varies_on(fixed)  # the partner's locale, for everyone
    assert "no-store" in fixed["Cache-Control"]


def test_a_guide_in_the_readers_language_says_so_to_caches(catalog):
    read = Client().get("/guides/sandbox-erp/password/", headers={"Accept-Language": "fr"})
    assert "accept-language" in varies_on(read)
    assert "private" in read["Cache-Control"] and "public" not in read["Cache-Control"]
    shared = Client().get("/guides/sandbox-erp/password/?lang=de")
    assert "accept-language" not in varies_on(shared)  # its link names the language
    assert "private" in shared["Cache-Control"]


def test_the_flows_outage_screen_in_the_browsers_language_says_so_to_caches():
    from django.db import OperationalError
    from django.test import RequestFactory

    from connections.http.outages import unavailable

    request = RequestFactory().get("/connect/onr_lt_x/", headers={"Accept-Language": "de"})
    response = unavailable(request, OperationalError("the database is down"))
    assert response.status_code == 503 and '<html lang="de">' in response.content.decode()
    assert "accept-language" in varies_on(response) and "no-store" in response["Cache-Control"]


def test_the_language_menu_names_each_language_in_itself_and_needs_no_extra_button(acme):
    _, token = link_session(acme.partner, locale="de")
    html = page(Client(), f"/connect/{token}/")
    menu = html[
        html.index("data-language-menu") : html.index("</form>", html.index("data-language-menu"))
    ]
    for code, name in (("en", "English"), ("fr", "Français"), ("es", "Español")):
        assert (
            f'name="locale" value="{code}" lang="{code}"' in menu and f">{name}</button>" in menu
        )
    assert '<span lang="de" aria-current="true">Deutsch</span>' in menu  # where the user is
    assert menu.count("<button") == 3 and "<select" not in menu  # a language is its button


@pytest.mark.parametrize(
    ("locale", "lead"),
    [
        ("de", "Verbinden Sie &lt;b&gt;Ihr&lt;/b&gt; ERP, damit Rechnungen nachts abgleichen."),
        ("fr", "Connectez votre ERP pour synchroniser les factures."),
        ("es", "Connect your ERP so invoices sync every night."),  # none: the default one
    ],
)
def test_the_partners_lead_text_speaks_the_end_users_language(acme, locale, lead):
    acme.partner.lead_text = "Connect your ERP so invoices sync every night."
    acme.partner.lead_text_translations = {
        "de": "Verbinden Sie <b>Ihr</b> ERP, damit Rechnungen nachts abgleichen.",
        "fr": "Connectez votre ERP pour synchroniser les factures.",
    }
    acme.partner.save()
    _, token = link_session(acme.partner, locale=locale)
    html = page(Client(), f"/connect/{token}/")
    assert f'<p class="lead">{lead}</p>' in html and "<b>Ihr" not in html


def test_switching_language_switches_the_lead_text(acme):
    acme.partner.lead_text_translations = {"fr": "Connectez votre ERP.", "en": "Connect it."}
    acme.partner.save()
    _, token = link_session(acme.partner, locale="en")
    base = f"/connect/{token}/"
    assert "Connect it." in page(Client(), base)
    Client().post(base + "language/", {"locale": "fr", "next": base})
    assert "Connectez votre ERP." in page(Client(), base)


@pytest.mark.parametrize(
    ("locale", "quoted"),
    [
        ("en", "“Invalid &lt;key&gt;”"),
        ("de", "„Invalid &lt;key&gt;“"),
        ("fr", "«\xa0Invalid &lt;key&gt;\xa0»"),
        ("es", "«Invalid &lt;key&gt;»"),
    ],
)
def test_a_remote_systems_words_are_quoted_the_way_the_language_quotes(acme, locale, quoted):
    session, token = link_session(acme.partner, locale=locale)
    attempt = ValidationAttempt.objects.create(
        link_session=session,
        system_slug="infoplus",
        method="api_key",
        status="failed",
        error_code="invalid_credentials",
        error_message="Infoplus did not accept the API key.",
        error_detail="Invalid <key>",
    )
    html = page(Client(), f"/connect/{token}/attempts/{attempt.id}/")
    assert quoted in html and "<key>" not in html


def test_every_language_we_speak_has_its_quotation_marks():
    assert set(QUOTATION_MARKS) == set(dict(settings.LANGUAGES))


@pytest.mark.parametrize(
    ("language", "path"),
    [
        (
            "de",
            "Manage Roles &gt; \u2039Rolle\u203a &gt; Web Services Only Role",
        ),
        ("fr", "Lists &gt; Employees &gt; \u2039employé\u203a &gt; Edit &gt; Access &gt; Roles"),
        (
            "es",
            "Manage Roles &gt; \u2039rol\u203a &gt; Web Services Only Role",
        ),
    ],
)
def test_a_menu_paths_placeholders_are_translated_its_menu_names_kept(catalog, language, path):
    guide = Client().get(f"/guides/netsuite/m2m/?lang={language}").content.decode()
    assert path in guide and "the role" not in guide


@pytest.mark.parametrize(("language", "badge"), [("fr", "Recommandé<"), ("es", "Recomendado<")])
def test_the_recommended_method_reads_right_in_each_language(acme, language, badge):
    _, token = link_session(acme.partner, locale=language)
    assert badge in page(Client(), f"/connect/{token}/s/netsuite/")
