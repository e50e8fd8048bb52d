"""``{{ step.body|tr }}``: a catalog string in the end user's language (see catalog/i18n.py)."""

from django import template

from catalog.i18n import translated

register = template.Library()
register.filter("tr", translated, is_safe=False)
