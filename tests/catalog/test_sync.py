import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from catalog.models import System
from catalog.search import search_systems
from catalog.sync import catalog_sync

pytestmark = pytest.mark.django_db


def test_sync_creates_then_leaves_unchanged_rows():
    first = catalog_sync()
    assert first["created"] >= 4
    again = catalog_sync()
    assert again["created"] == 0 and again["updated"] == 0
    assert not System.objects.get(slug="netsuite").coming_soon


def test_sync_keeps_an_operators_choice_and_marks_removed_files():
    catalog_sync()
    System.objects.filter(slug="mintsoft").update(enabled=False)
    System.objects.create(slug="retired", name="Retired", vendor="Old")
    counts = catalog_sync()
    assert counts["removed"] == 1
    assert not System.objects.get(slug="mintsoft").enabled
    assert not System.objects.listed().filter(slug__in=["mintsoft", "retired"]).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("infoplus", "infoplus"),
        ("ORACLE", "netsuite"),
        ("suitetalk", "netsuite"),
        ("wms", "infoplus"),
        ("access mint", "mintsoft"),
        ("practice", "sandbox-erp"),
    ],
)
def test_search_matches_name_vendor_alias_and_category(query, expected):
    catalog_sync()
    assert expected in search_systems(query)


def test_popular_systems_come_first():
    catalog_sync()
    slugs = search_systems("")
    assert slugs.index("sandbox-erp") < slugs.index("netsuite") < slugs.index("infoplus")


def test_admin_actions_enable_and_disable(admin_user):
    catalog_sync()
    request = RequestFactory().post("/")
    request.user = admin_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    model_admin = site._registry[System]
    model_admin.disable(request, System.objects.filter(slug="infoplus"))
    assert not System.objects.get(slug="infoplus").enabled
    model_admin.enable(request, System.objects.filter(slug="infoplus"))
    assert System.objects.get(slug="infoplus").enabled
