"""Which language the flow speaks: the link session's ``locale``, else the browser's.

The first screen a session opens fixes it (stored on the session), so a validation run by a
worker, a resumed session and every later screen speak the same language; the language
switcher changes it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from connections.errors import OnrampError


def supported(code: str) -> str | None:
    """``de``, ``de-DE`` or ``de_de`` → ``de`` when we speak it, else None."""
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in dict(settings.LANGUAGES) else None


def locale_checked(code: str) -> str:
    """A partner's ``locale``: empty (the browser decides) or one we speak."""
    if not code:
        return ""
    if found := supported(code):
        return found
    spoken = ", ".join(dict(settings.LANGUAGES))
    raise OnrampError("unsupported_locale", f"locale must be one of {spoken}, or left out.")


def browser_language(request: HttpRequest) -> str:
    """The best of our languages for the browser's ``Accept-Language`` (English otherwise)."""
    header = request.headers.get("Accept-Language", "")
    for code, _ in translation.trans_real.parse_accept_lang_header(header):
        if code != "*" and (found := supported(code)):
            return found
    return settings.LANGUAGE_CODE


def language_of(locale: str) -> str:
    return supported(locale) or settings.LANGUAGE_CODE


# How each language quotes a name or a remote system's words (French with no-break spaces).
QUOTATION_MARKS = {
    "en": ("“", "”"),
    "de": ("„", "“"),
    "fr": ("«\u00a0", "\u00a0»"),
    "es": ("«", "»"),
}


def quotation_marks(language: str) -> tuple[str, str]:
    """The opening and closing marks for ``language`` (English ones for a language we lack)."""
    return QUOTATION_MARKS.get(language_of(language), QUOTATION_MARKS["en"])
