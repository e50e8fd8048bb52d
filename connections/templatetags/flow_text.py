"""``{{ text|quoted }}``: text in the quotation marks of the language being spoken; and the
language menu's names."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from connections.languages import quotation_marks

register = template.Library()


@register.filter(needs_autoescape=True)
def quoted(text: object, autoescape: bool = True) -> SafeString | str:
    """„text“ in German, « text » in French, «text» in Spanish, “text” in English."""
    opening, closing = quotation_marks(get_language() or "")
    if not autoescape:
        return f"{opening}{text}{closing}"
    return format_html("{}{}{}", opening, text, closing)


@register.simple_tag
def languages_in_themselves() -> list[tuple[str, str]]:
    """Our languages as the language menu names them: each in itself (``Deutsch``), never in
    the language being spoken (Django's ``get_available_languages`` would say ``Englisch``)."""
    return list(settings.LANGUAGES)
