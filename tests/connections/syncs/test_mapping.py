"""Mappings are data: a definition's ``[syncs]`` tables are parsed strictly, checked against
the unified models, and applied by small typed transforms that name the field that failed."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest

from catalog.mappings import PaginationSpec
from catalog.registry import definitions, get_definition
from catalog.schema import DefinitionError, parse_definition
from connections.checks import definition_problems
from connections.syncs.mapping import MappingError, record_map
from connections.syncs.pages import next_position, page_query
from connections.syncs.schemas import LINES, SyncModel
from tests.conftest import ROOT

SANDBOX = ROOT / "catalog" / "systems" / "sandbox-erp.toml"
ORDER = {
    "id": "po_1",
    "number": "PO-1",
    "state": "OPEN",
    "ordered_on": "2026-03-01T10:00:00Z",
    "total": "12.50",
    "updated_at": "2026-03-02T08:00:00Z",
    "deleted": False,
    "lines": [{"line": 1, "sku": "A", "qty": 2}, {"line": 2, "sku": "B", "qty": "lots"}],
}


def spec():
    return get_definition("sandbox-erp").syncs["purchase_orders"]


def sandbox_toml() -> dict:
    return tomllib.loads(SANDBOX.read_text())


def test_a_record_is_mapped_by_its_typed_transforms():
    order = dict(ORDER, lines=ORDER["lines"][:1])
    mapped = record_map(spec=spec(), model=SyncModel.PURCHASE_ORDERS, raw=order)
    assert mapped.remote_id == "po_1" and not mapped.deleted
    assert mapped.data["status"] == "open" and mapped.data["order_date"] == "2026-03-01"
    assert mapped.data["total"] == "12.50" and mapped.data["lines"][0]["quantity"] == "2"
    assert mapped.modified_at.isoformat() == "2026-03-02T08:00:00+00:00"
    assert mapped.raw == order


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "lines[1].quantity"),
        ({"state": "ON_HOLD", "lines": []}, "status"),
        ({"total": "12,50", "lines": []}, "total"),
        ({"ordered_on": "01/03/2026", "lines": []}, "order_date"),
        ({"id": None}, "id"),
        ({"updated_at": "last week", "lines": []}, "updated_at"),
    ],
)
def test_what_cannot_be_mapped_names_its_field(change, field):
    with pytest.raises(MappingError) as caught:
        record_map(spec=spec(), model=SyncModel.PURCHASE_ORDERS, raw=dict(ORDER, **change))
    assert caught.value.field == field


def test_unchanged_content_has_the_same_hash_and_any_change_another():
    def digest(order):
        return record_map(spec=spec(), model=SyncModel.PURCHASE_ORDERS, raw=order).content_hash

    order = dict(ORDER, lines=[])
    assert digest(order) == digest(dict(order))
    assert digest(order) != digest(dict(order, number="PO-2"))
    assert digest(order) != digest(dict(order, deleted=True))


def test_every_definition_with_syncs_maps_only_fields_its_models_have():
    with_syncs = [d for d in definitions().values() if d.syncs]
    assert with_syncs
    for definition in with_syncs:
        assert definition_problems(definition) == [], definition.slug


def test_a_mapping_to_a_field_the_model_lacks_is_a_problem():
    data = sandbox_toml()
    data["syncs"]["vendors"]["fields"]["colour"] = "colour"
    problems = definition_problems(parse_definition(data, source="x.toml"))
    assert problems == ["syncs.vendors.fields: 'colour' is not a field of vendors"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("purchase_orders", "pagination", "style"), "scroll", "pagination.style"),
        (("purchase_orders", "deletions", "style"), "vanish", "deletions.style"),
        (("purchase_orders", "paging"), {}, "unknown key 'paging'"),
        (("purchase_orders", "fields", "total"), {"source": "t", "type": "money"}, "total.type"),
        (("purchase_orders", "fields", "total"), {"from": "t"}, "total"),
        (("invoices",), {"path": "/x"}, "syncs.invoices"),
    ],
)
def test_the_schema_refuses_what_the_engine_cannot_run(path, value, message):
    data = sandbox_toml()
    table = data["syncs"]
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    with pytest.raises(DefinitionError, match=message.replace("[", r"\[")):
        parse_definition(data, source="x.toml")


def test_offset_and_page_styles_end_on_a_short_page():
    offset = PaginationSpec(style="offset", size=2, offset_param="skip", size_param="top")
    assert page_query(offset, None) == {"top": "2", "skip": "0"}
    assert next_position(offset, 4, {}, [{}] * 2) == 6
    assert next_position(offset, 6, {}, [{}]) is None
    page = replace(offset, style="page", page_param="p", first_page=0)
    assert page_query(page, None) == {"top": "2", "p": "0"}
    assert next_position(page, None, {}, [{}] * 2) == 1 and next_position(page, 1, {}, []) is None
    cursor = replace(offset, style="cursor", next_cursor="meta.next")
    assert next_position(cursor, None, {"meta": {"next": "abc"}}, [{}] * 2) == "abc"
    assert next_position(cursor, "abc", {"meta": {"next": None}}, [{}] * 2) is None


def test_the_readme_documents_every_field_of_every_model():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Syncs (first slice)")[1].split("\n## ")[0]
    for model in SyncModel:
        assert f"`{model.value}` field" in section
        missing = [name for name in model.schema.model_fields if f"`{name}`" not in section]
        assert not missing, model
        assert f"`GET /api/v1/{model.path}" in section
    for _, schema in LINES.values():
        assert all(f"| `{name}` |" in section for name in schema.model_fields), schema
