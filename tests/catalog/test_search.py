"""Search as you type: what an end user types finds their system, best match first."""

import pytest

from catalog.index import Index
from catalog.indexer import SystemRow, index_bytes
from catalog.models import System
from catalog.search import catalog_changed, search_systems, system_categories
from catalog.sync import catalog_sync

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalog():
    catalog_sync()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("netsute", "netsuite"),  # a letter missing
        ("buisness central", "microsoft-dynamics-365-business-central"),  # two swapped
        ("acu", "acumatica"),  # the start of a name
        ("Microsoft", "microsoft-dynamics-365-business-central"),  # the vendor
        ("oracle", "netsuite"),
        ("d365fo", "dynamics-365-finance-operations"),  # an alias
        ("wms", "infoplus"),  # a category
        ("INFOR sx", "infor-sxe"),
    ],
)
def test_typos_prefixes_vendors_aliases_and_categories_find_the_system(query, expected):
    assert expected in search_systems(query)[:10]


def test_a_categorys_own_words_find_every_system_in_it():
    found = set(search_systems("maintenance", limit=100))
    cmms = {slug for slug, row in _definitions().items() if "cmms" in row.categories}
    assert cmms <= found, sorted(cmms - found)
    assert "fleetio" in search_systems("fleet", limit=100)  # "Assets and fleet (EAM)"


def _definitions():
    from catalog.registry import definitions

    return definitions()


def test_the_best_match_comes_first():
    assert search_systems("xero")[0] == "xero"
    assert search_systems("netsuite")[0] == "netsuite"
    assert search_systems("sap business one")[0] == "sap-business-one"
    assert search_systems("infor")[0].startswith("infor")


def test_accents_and_case_are_folded():
    System.objects.filter(slug="odoo").update(name="Odoo Édition Entreprise")
    catalog_changed()
    assert search_systems("edition")[0] == "odoo"
    assert search_systems("ÉDITION")[0] == "odoo"


def test_every_word_must_match():
    assert search_systems("xero netsuite") == []
    assert search_systems("zzzz") == []


def test_a_session_sees_only_its_systems_and_a_category_narrows_them():
    allowed = ["netsuite", "xero", "infoplus"]
    assert set(search_systems("", allowed=allowed)) == set(allowed)
    assert search_systems("", allowed=allowed, category="wms") == ["infoplus"]
    assert "accounting" in system_categories(allowed=allowed)
    assert "cmms" not in system_categories(allowed=allowed)
    assert all(
        "cmms" in System.objects.get(slug=slug).categories
        for slug in search_systems("", category="cmms")
    )


def test_a_change_to_the_catalog_is_searched_at_once():
    System.objects.create(slug="brand-new", name="Brand New ERP", vendor="New Co")
    catalog_changed()
    assert search_systems("brand new") == ["brand-new"]
    System.objects.filter(slug="brand-new").update(enabled=False)
    catalog_changed()
    assert search_systems("brand new") == []


def test_pinned_then_popular_systems_open_the_list():
    System.objects.filter(slug="katana").update(pinned=True)
    catalog_changed()
    assert search_systems("")[0] == "katana"
    popular = [s for s in search_systems("") if s != "katana"]
    scores = [System.objects.get(slug=slug).popularity for slug in popular]
    assert scores == sorted(scores, reverse=True)


def index_of(rows: list[SystemRow]) -> Index:
    return Index(index_bytes(rows))


def test_short_prefixes_are_answered_from_the_most_popular():
    rows = [SystemRow(f"s{n}", f"Stock {n}", "Vendor", [], ["erp"], n) for n in range(300)]
    found = [entry.slug for entry in index_of(rows).search("st", None, "", 5)]
    assert found == ["s299", "s298", "s297", "s296", "s295"]


def test_a_name_beginning_with_the_query_ranks_first_even_at_the_end_of_the_alphabet():
    rows = [
        SystemRow("zeta-erp", "Zeta ERP", "Zeta", [], ["erp"], 1),
        SystemRow("big-zeta", "Big Zeta Suite", "Other", [], ["erp"], 99),
    ]
    found = index_of(rows).search("zeta", None, "", 5)
    assert [entry.slug for entry in found] == ["zeta-erp", "big-zeta"]


def test_a_short_prefix_finds_an_unpopular_system_a_session_allows():
    rows = [SystemRow(f"s{n}", f"Stock {n}", "Vendor", [], ["erp"], 1000 - n) for n in range(300)]
    rows.append(SystemRow("zeta-wms", "Zeta WMS", "Zeta", [], ["wms"], 0))
    rows += [SystemRow(f"z{n}", f"Zebra {n}", "Z", [], ["erp"], 500) for n in range(250)]
    index = index_of(rows)
    assert [e.slug for e in index.search("ze", frozenset({"zeta-wms"}), "", 5)] == ["zeta-wms"]
    assert [e.slug for e in index.search("ze", None, "wms", 5)] == ["zeta-wms"]


def test_a_result_carries_what_its_card_shows():
    row = SystemRow(
        "acme-erp", "Acme ÉRP", "Acme", ["acm"], ["erp", "wms"], 5, True, "a.svg", True
    )
    entry = index_of([row]).listed("acme-erp")
    assert (entry.name, entry.vendor, entry.logo, entry.categories) == (
        "Acme ÉRP",
        "Acme",
        "a.svg",
        frozenset({"erp", "wms"}),
    )
    assert entry.pinned and entry.coming_soon and entry.popularity == 5
    assert index_of([row]).listed("acme") is None
