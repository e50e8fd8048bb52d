"""How the flow looks for a partner, and for one link session.

A partner sets defaults (``PATCH /api/v1/partner`` or the admin); a link session may override
any of them (``branding`` when it is created). Every value is checked the same way wherever it
comes from: https links only, and a primary colour that white text stays readable on (WCAG AA,
4.5:1) — a colour that fails is refused with a darker shade that passes. The lead text may
come in each language we speak (``lead_text_translations``); the flow shows the one in the end
user's language, else ``lead_text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from connections.errors import OnrampError
from connections.languages import language_of, supported
from connections.models import LinkSession, Partner

AA_CONTRAST = 4.5
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_HTTPS = URLValidator(schemes=["https"])
LIMITS = {"display_name": 120, "logo_url": 500, "support_url": 500, "privacy_url": 500}
LIMITS |= {"lead_text": 300, "primary_colour": 7}


@dataclass(frozen=True)
class Branding:
    display_name: str
    logo_url: str
    primary_colour: str
    support_url: str
    privacy_url: str
    lead_text: str


FIELDS = tuple(spec.name for spec in fields(Branding))


def partner_branding(partner: Partner, language: str = "") -> Branding:
    """How the partner's flow looks in ``language`` (its lead text, else the default one)."""
    return Branding(
        display_name=partner.shown_name,
        logo_url=partner.logo_url,
        primary_colour=partner.primary_colour,
        support_url=partner.support_url,
        privacy_url=partner.privacy_url,
        lead_text=(partner.lead_text_translations or {}).get(language) or partner.lead_text,
    )


def session_branding(session: LinkSession) -> Branding:
    """The partner's branding in the session's language, with this session's overrides."""
    base = partner_branding(session.partner, language_of(session.locale))
    overrides = {k: v for k, v in (session.branding or {}).items() if k in FIELDS and v}
    return Branding(**{**base.__dict__, **overrides})


def branding_checked(values: dict[str, Any]) -> dict[str, str]:
    """Values a partner sent, cleaned; ``invalid_branding`` saying which one and why."""
    cleaned = {}
    for name, value in values.items():
        if name not in FIELDS or value is None:
            continue
        text = " ".join(str(value).split()) if name != "lead_text" else str(value).strip()
        if problem := _problem(name, text):
            raise OnrampError("invalid_branding", f"{name}: {problem}")
        cleaned[name] = text.lower() if name == "primary_colour" else text
    return cleaned


def lead_texts_checked(values: dict[str, str | None]) -> dict[str, str]:
    """Lead texts by language, cleaned (``de-DE`` → ``de``; empty means "remove this one");
    ``invalid_branding`` naming a language we do not speak or a text that is not allowed."""
    cleaned = {}
    for code, value in values.items():
        language = supported(str(code))
        if language is None or len(str(code)) > 16:
            spoken = ", ".join(dict(settings.LANGUAGES))
            raise OnrampError(
                "invalid_branding",
                f"lead_text_translations: {str(code)[:16]!r} is not one of {spoken}.",
            )
        text = str(value or "").strip()
        if problem := _problem("lead_text", text):
            raise OnrampError("invalid_branding", f"lead_text_translations.{language}: {problem}")
        cleaned[language] = text
    return cleaned


def lead_texts_merged(current: dict[str, str], changes: dict[str, str]) -> dict[str, str]:
    """``current`` with ``changes`` applied: a text replaces a language's, an empty one
    removes it (a JSON merge patch)."""
    merged = {**(current or {}), **changes}
    return {code: text for code, text in merged.items() if text}


def _problem(name: str, value: str) -> str:
    if len(value) > LIMITS[name]:
        return f"at most {LIMITS[name]} characters."
    if any(ord(c) < 32 for c in value):
        return "control characters are not allowed."
    if name.endswith("_url") and value:
        try:
            _HTTPS(value)
        except ValidationError:
            return "must be an https:// URL."
    if name == "primary_colour":
        return colour_problem(value)
    return ""


def colour_problem(colour: str) -> str:
    """Why white text on ``colour`` would be hard to read ('' when it is fine)."""
    if not _HEX.match(colour):
        return "must be a colour like #4f46e5."
    ratio = contrast_with_white(colour)
    if ratio >= AA_CONTRAST:
        return ""
    return (
        f"white text on {colour} has a contrast of {ratio:.1f}:1; WCAG AA needs "
        f"{AA_CONTRAST}:1. A darker shade such as {darker_passing(colour)} passes."
    )


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def darker_passing(colour: str) -> str:
    """The same hue, darkened step by step until white text on it passes AA."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(100, -1, -1):
        shade = "#" + "".join(f"{round(c * step / 100):02x}" for c in (red, green, blue))
        if contrast_with_white(shade) >= AA_CONTRAST:
            return shade
    return "#000000"


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
