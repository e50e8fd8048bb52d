"""The shape of a system's syncs: ``[syncs.<model>]`` tables in its definition file.

Per unified model a system supports (``purchase_orders``, ``vendors``…), the table says which
request lists the records, how its pages follow each other, where the records are in an
answer, the remote's modified time and how to filter by it, how deletions show, and how each
field of the unified model is read from a record. Example (the Sandbox ERP's)::

    [syncs.purchase_orders]
    path = "/v1/purchase-orders"
    records = "data"
    id = "id"
    modified_field = "updated_at"
    modified_param = "modified_after"

    [syncs.purchase_orders.pagination]
    style = "cursor"                # cursor | offset | page | suiteql_offset | link | keyset
    size = 100
    size_param = "limit"
    cursor_param = "cursor"
    next_cursor = "next_cursor"     # where the answer gives the next page's cursor

    [syncs.purchase_orders.deletions]
    style = "tombstone"             # tombstone (a true field) | status (field in values)
                                    # | reconcile (gone from a full sync's listing)
    field = "deleted"

    [syncs.purchase_orders.fields]
    number = "number"                                   # the record's "number", as text
    total = { source = "total", type = "decimal" }
    status = { source = "state", type = "enum", values = { OPEN = "open" } }

Pagination styles: ``cursor`` (the answer names the next page's cursor), ``offset`` and
``page`` (a short page is the last), ``suiteql_offset`` (offset pages that say whether more
follow, ``more_field``: NetSuite's ``hasMore``), ``link`` (the next page's URL in the answer's
``Link: <…>; rel="next"`` header, RFC 8288), ``keyset`` (the next page starts after the last
record's ``key``, given as ``{after}`` in the query or body; ``more_field`` says whether more
follow). A ``POST`` request (SuiteQL, SX.e) sends ``body`` as JSON, its strings templated like
``modified_template`` (``{since}``, ``{size}``, ``{after}`` and the connection's own settings
such as ``{company_number}``; ``"{name:int}"`` as a number), with ``headers`` (only those the
proxy forwards).

A field's ``source`` is a dotted path into the record. ``[syncs.<model>.lines]`` maps the
lines of a record (``source``: where the list is; ``fields``: as above). Where the listing
leaves the lines out, ``[syncs.<model>.lines.request]`` asks for them with a request of their
own, its answer's rows put in each record at ``source`` before it is mapped: ``per = "page"``
once for a page of records (``{ids}``: their ids, comma-separated; ``parent``: the row field
naming its record's id; NetSuite's ``transactionline``), ``per = "record"`` once per record
(``{id}``, and ``{record.<field>}`` from the record; SX.e's single purchase order). Its
``pagination`` is ``single`` (one answer holds all) or a style above; ``records``,
``error_field``, ``method``, ``body``, ``query`` and ``headers`` as for the listing. Parsed
strictly by ``schema.py``; whether the target fields exist in the unified model is checked by
the code that defines the models (``connections/syncs/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODELS = ("purchase_orders", "vendors", "items", "work_orders")
PAGINATION_STYLES = ("cursor", "offset", "page", "suiteql_offset", "link", "keyset")
DETAIL_PAGINATION = ("single", "cursor", "offset", "page", "suiteql_offset")
DETAIL_PER = ("page", "record")
METHODS = ("GET", "POST")
HEADERS = frozenset({"accept", "prefer"})  # what a sync may add (the proxy forwards them)
DELETION_STYLES = ("none", "tombstone", "status", "reconcile")
TRANSFORMS = ("string", "integer", "decimal", "date", "datetime", "boolean", "enum", "object")
FIELD_KEYS = frozenset({"source", "type", "values", "default"})


@dataclass(frozen=True)
class PaginationSpec:
    style: str
    size: int = 100
    size_param: str = "limit"
    cursor_param: str = "cursor"  # cursor: the query parameter, and the answer's key below
    next_cursor: str = "next_cursor"
    offset_param: str = "offset"  # offset
    page_param: str = "page"  # page
    first_page: int = 1
    more_field: str = ""  # suiteql_offset, keyset: the answer's "more pages follow" flag
    key: str = ""  # keyset: the record field whose last value starts the next page


@dataclass(frozen=True)
class DeletionSpec:
    style: str = "none"
    # Query parameters that make the listing include deleted records (tombstones). (Before
    # ``field``, which names the dataclasses function in this class's body after it.)
    query: dict[str, str] = field(default_factory=dict)
    field: str = ""
    values: tuple[str, ...] = ()  # status: the values that mean deleted


@dataclass(frozen=True)
class DetailRequest:
    """A request for what a listing leaves out (a purchase order's lines): ``path`` empty
    where the listing has it all."""

    path: str = ""
    per: str = "page"  # page: once for a page's records ({ids}); record: once each ({id})
    parent: str = ""  # per page: the row field that names its record's id
    method: str = "GET"
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    records: str = ""
    error_field: str = ""
    pagination: PaginationSpec = field(default_factory=lambda: PaginationSpec(style="single"))


@dataclass(frozen=True)
class LinesSpec:
    source: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    request: DetailRequest = field(default_factory=DetailRequest)


@dataclass(frozen=True)
class SyncSpec:
    path: str
    id: str
    modified_field: str  # "" where the system's records carry no modified time (SX.e lists)
    pagination: PaginationSpec
    records: str = ""  # a dotted path to the list; "" when the answer is the list
    method: str = "GET"
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)  # POST: sent as JSON, templated
    headers: dict[str, str] = field(default_factory=dict)
    # An answer whose value here is not empty is a refusal, whatever its status (SX.e says
    # "Invalid Company Number" in a 200): the run fails rather than finding nothing listed.
    error_field: str = ""
    modified_param: str = ""  # the filter; without one every run reads everything
    # The filter's value, ``{since}`` being the time (ISO 8601, UTC, "Z"): Infoplus wants
    # ``modifyDate ge '{since}'`` in its ``filter`` parameter.
    modified_template: str = "{since}"
    deletions: DeletionSpec = field(default_factory=DeletionSpec)
    fields: dict[str, Any] = field(default_factory=dict)
    lines: LinesSpec = field(default_factory=LinesSpec)


def sync_problems(syncs: dict[str, SyncSpec]) -> list[str]:
    """What is wrong in a definition's ``[syncs]`` tables (empty: nothing)."""
    problems: list[str] = []
    for model, spec in syncs.items():
        where = f"syncs.{model}"
        if model not in MODELS:
            problems.append(f"{where}: unknown model (one of {', '.join(MODELS)})")
        if "{since}" not in spec.modified_template:
            problems.append(f"{where}.modified_template: must hold {{since}}")
        problems += _request_problems(spec, where)
        problems += _pagination_problems(spec.pagination, f"{where}.pagination")
        problems += _deletion_problems(spec.deletions, f"{where}.deletions")
        problems += field_problems(spec.fields, f"{where}.fields")
        problems += field_problems(spec.lines.fields, f"{where}.lines.fields")
        if spec.lines.fields and not spec.lines.source:
            problems.append(f"{where}.lines: a source is needed for its fields")
        if spec.lines.request.path:
            problems += _detail_problems(spec.lines, f"{where}.lines")
    return problems


def _detail_problems(lines: LinesSpec, where: str) -> list[str]:
    request, problems = lines.request, []
    if "." in lines.source:
        problems.append(f"{where}.source: a plain key where the request's rows are put")
    if request.per not in DETAIL_PER:
        problems.append(f"{where}.request.per: one of {', '.join(DETAIL_PER)}")
    if request.per == "page" and not request.parent:
        problems.append(f"{where}.request.parent: the row field naming its record's id")
    if request.pagination.style not in DETAIL_PAGINATION:
        problems.append(f"{where}.request.pagination.style: one of {', '.join(DETAIL_PAGINATION)}")
    if request.pagination.style == "suiteql_offset" and not request.pagination.more_field:
        problems.append(f"{where}.request.pagination.more_field: where more pages are said")
    return problems + _request_problems(request, f"{where}.request")


def _request_problems(spec: SyncSpec | DetailRequest, where: str) -> list[str]:
    problems = []
    if spec.method not in METHODS:
        problems.append(f"{where}.method: one of {', '.join(METHODS)}")
    if bool(spec.body) != (spec.method == "POST"):
        problems.append(f"{where}.body: a POST, and only a POST, has a body")
    if unknown := sorted(name for name in spec.headers if name.lower() not in HEADERS):
        problems.append(f"{where}.headers: {unknown[0]!r} is not sent (only {sorted(HEADERS)})")
    return problems


def _pagination_problems(spec: PaginationSpec, where: str) -> list[str]:
    problems = []
    if spec.style not in PAGINATION_STYLES:
        problems.append(f"{where}.style: one of {', '.join(PAGINATION_STYLES)}")
    if not 1 <= spec.size <= 1000:
        problems.append(f"{where}.size: between 1 and 1000")
    if spec.style == "keyset" and (not spec.key or not spec.more_field):
        problems.append(f"{where}: keyset needs key and more_field")
    if spec.style == "suiteql_offset" and not spec.more_field:
        problems.append(f"{where}.more_field: where the answer says more pages follow")
    return problems


def _deletion_problems(spec: DeletionSpec, where: str) -> list[str]:
    if spec.style not in DELETION_STYLES:
        return [f"{where}.style: one of {', '.join(DELETION_STYLES)}"]
    if spec.style in ("tombstone", "status") and not spec.field:
        return [f"{where}.field: which field shows a deletion"]
    if spec.style == "status" and not spec.values:
        return [f"{where}.values: the statuses that mean deleted"]
    return []


def field_problems(fields: dict[str, Any], where: str) -> list[str]:
    problems = []
    for target, rule in fields.items():
        if isinstance(rule, str):
            continue
        if not isinstance(rule, dict) or not isinstance(rule.get("source"), str):
            problems.append(f"{where}.{target}: a dotted source path, or a table with source")
            continue
        if unknown := sorted(set(rule) - FIELD_KEYS):
            problems.append(f"{where}.{target}: unknown key {unknown[0]!r}")
        if rule.get("type", "string") not in TRANSFORMS:
            problems.append(f"{where}.{target}.type: one of {', '.join(TRANSFORMS)}")
        values = rule.get("values")
        if (rule.get("type") == "enum") != isinstance(values, dict):
            problems.append(f"{where}.{target}: an enum, and only an enum, has values")
    return problems
