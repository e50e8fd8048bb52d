"""A long changelist's rows written out in one pass, and times as people read them.

Django's admin works out how to show each cell for every row (``lookup_field``,
``display_for_field``, a ``reverse()`` and a ``format_html`` per cell): two thirds of a
50-row page's time. Here each column is worked out once per page (a small function per
column) and each cell is one escape and one string; the markup is the admin's own (the same
classes, the first column linking to the row's page), so its CSS and JavaScript still apply.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import _boolean_icon, result_headers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext as _

PK_MARK = "__pk__"
MONTHS = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]  # not translated: the admin is English


def when(value: datetime | None, now: datetime | None = None) -> SafeString:
    """A time as people read it: "7 Dec 2026, 18:13" (the server's zone, UTC), with how long
    ago or how soon when within a day, the exact second in a tooltip."""
    if value is None:
        return mark_safe("-")
    now = now or timezone.localtime()
    local = value.astimezone(now.tzinfo)  # ``now`` is in the zone to show times in
    text = f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local.hour:02}:{local.minute:02}"
    if relative := _relative(value - now):
        text = f"{text} ({relative})"
    exact = f"{local.isoformat(' ', 'seconds')[:19]} {local.tzname()}"
    return mark_safe(  # noqa: S308 (digits and month names only)
        f'<time datetime="{value.isoformat()}" title="{exact}">{text}</time>'
    )


def _relative(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    size = abs(seconds)
    if size >= 86400:
        return ""
    if size < 60:
        return "just now"
    amount = f"{size // 60} min" if size < 3600 else f"{size // 3600} h"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def table(cl: ChangeList) -> dict[str, Any]:
    """The context of ``admin/connections/rows.html`` for this page of ``cl`` (none for a
    page editing rows in the list: Django's own rows carry its forms)."""
    if cl.formset:
        return {}
    headers = list(result_headers(cl))
    columns = [_column(cl, name, n) for n, name in enumerate(cl.list_display)]
    now = timezone.localtime()  # once per page, in the zone times are shown in
    rows = "".join(
        "<tr>" + "".join(column(row, now) for column in columns) + "</tr>"
        for row in cl.result_list
    )
    return {
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "rows": mark_safe(rows),  # noqa: S308 (each cell escaped by its column)
    }


def _column(cl: ChangeList, name: Any, index: int) -> Callable[[Any, datetime], str]:
    """How to write one column's cell, worked out once for the page."""
    cell, classes = _cell(cl, name)
    css = "action-checkbox" if name == "action_checkbox" else _css_name(name, index)
    attrs = f' class="{" ".join([css, *classes])}"'
    if not _is_link(cl, name, index):
        return lambda row, now: f"<td{attrs}>{cell(row, now)}</td>"
    url = add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts},
        reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=[PK_MARK],
            current_app=cl.model_admin.admin_site.name,
        ),
    )
    before, after = escape(url).split(PK_MARK, 1)
    return lambda row, now: (
        f'<th{attrs}><a href="{before}{escape(quote(row.pk))}{after}">{cell(row, now)}</a></th>'
    )


def _is_link(cl: ChangeList, name: Any, index: int) -> bool:
    if cl.list_display_links is None:
        return False
    if not cl.list_display_links:
        return index == (1 if cl.list_display[0] == "action_checkbox" else 0)
    return name in cl.list_display_links


def _css_name(name: Any, index: int) -> str:
    if callable(name):
        return "field-" + (name.__name__ if name.__name__ != "<lambda>" else f"lambda{index}")
    return f"field-{name}"


def _cell(cl: ChangeList, name: Any) -> tuple[Callable[[Any, datetime], str], list[str]]:
    """A column's cell and extra classes: a model field, or a callable of the page."""
    empty = escape(cl.model_admin.get_empty_value_display())
    if name == "action_checkbox":
        return _checkbox(), []
    try:
        field = cl.opts.get_field(name) if isinstance(name, str) else None
    except FieldDoesNotExist:
        field = None
    if field is not None:
        return _field_cell(field, empty)
    function = name if callable(name) else getattr(cl.model_admin, name, None)
    if function is None:
        return (lambda row, now: _text(getattr(row, name), empty)), []
    if getattr(function, "boolean", False):
        return (lambda row, now: _boolean_icon(function(row))), []
    return (lambda row, now: _text(function(row), empty, now)), []


def _checkbox() -> Callable[[Any, datetime], str]:
    """Django's checkbox for actions, its label translated once for the page."""
    label = escape(_("Select this object for an action - {}"))
    field = f'<input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="'
    return lambda row, now: (
        f'{field}{escape(row.pk)}" class="action-select" aria-label="{label.format(escape(row))}">'
    )


def _field_cell(field: models.Field, empty: str) -> tuple[Callable[[Any, datetime], str], list]:
    attname, name = field.attname, field.name
    if isinstance(field, models.ForeignKey):
        return (lambda row, now: _text(getattr(row, name), empty)), ["nowrap"]
    if field.flatchoices:
        labels = {key: str(label) for key, label in field.flatchoices}
        return (lambda row, now: _text(labels.get(getattr(row, attname)), empty)), []
    if isinstance(field, models.DateTimeField):
        return (lambda row, now: when(getattr(row, attname), now)), ["nowrap"]
    if isinstance(field, models.BooleanField):
        return (lambda row, now: _boolean_icon(getattr(row, attname))), []
    return (lambda row, now: _text(getattr(row, attname), empty)), []


def _text(value: Any, empty: str, now: datetime | None = None) -> str:
    if isinstance(value, Promise):  # a lazy label: translated once, not at each comparison
        value = str(value)
    if value is None or (isinstance(value, str | list | tuple) and not value):
        return empty
    if isinstance(value, SafeData):  # a page's own markup (format_html)
        return value
    if isinstance(value, datetime):
        return when(value, now)
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return html.escape(str(value))  # the standard library's: no lazy wrapper, no SafeString
