"""Vendor facts of the warehouse and commerce batch, checked against simulators that check what
the vendor's documentation says the real system checks (``tests/fakes/vendors_cat_wms.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.normalizers import url as normalize_url
from catalog.registry import get_definition
from tests.factories import live_check
from tests.fakes.vendors_cat_wms import FakeSellercloud, FakeWooCommerce

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[FakeSellercloud, FakeWooCommerce]]:
    fakes = (FakeSellercloud().start(), FakeWooCommerce().start())
    yield fakes
    for fake in fakes:
        fake.stop()


@pytest.fixture
def sellercloud(running, settings) -> FakeSellercloud:
    return _reachable(running[0], settings)


@pytest.fixture
def woocommerce(running, settings) -> FakeWooCommerce:
    return _reachable(running[1], settings)


def _reachable(fake, settings):
    fake.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = ",".join(f"{host}={fake.url}" for host in fake.hosts)
    return fake


def test_sellercloud_signs_in_with_json_on_the_teams_server(sellercloud):
    sellercloud.users["onramp"] = "s3cret"
    credentials = {"username": "onramp", "password": "s3cret"}
    assert live_check("sellercloud", "employee_login", {"server_id": "tt"}, credentials) is None
    login = next(r for r in sellercloud.requests if r.path == "/rest/api/token")
    assert login.host == "tt.api.sellercloud.com"
    assert login.json() == {"Username": "onramp", "Password": "s3cret"}


def test_sellercloud_says_when_the_sign_in_is_refused(sellercloud):
    sellercloud.users["onramp"] = "s3cret"
    credentials = {"username": "onramp", "password": "wrong"}
    outcome = live_check("sellercloud", "employee_login", {"server_id": "tt"}, credentials)
    assert outcome is not None and outcome.code == "invalid_credentials"
    assert not any(r.path == "/rest/api/companies" for r in sellercloud.requests)


def _woocommerce_site(pasted: str) -> str:
    (spec,) = get_definition("woocommerce").fields
    return normalize_url(pasted, spec)


def test_woocommerce_in_a_folder_is_reached_from_its_admin_address(woocommerce):
    woocommerce.folder = "/store"
    woocommerce.keys["ck_onramp"] = "cs_onramp"
    site = _woocommerce_site("https://store.example/store/wp-admin/edit.php?post_type=product")
    assert site == "https://store.example/store"
    credentials = {"username": "ck_onramp", "password": "cs_onramp"}
    assert live_check("woocommerce", "rest_api_key", {"site": site}, credentials) is None


def test_a_woocommerce_shop_page_at_the_root_keeps_only_the_site(woocommerce):
    woocommerce.keys["ck_onramp"] = "cs_onramp"
    site = _woocommerce_site("https://store.example/shop/?orderby=price")
    assert site == "https://store.example"
    credentials = {"username": "ck_onramp", "password": "cs_onramp"}
    assert live_check("woocommerce", "rest_api_key", {"site": site}, credentials) is None


def test_a_wrong_woocommerce_secret_is_refused_with_advice(woocommerce):
    woocommerce.keys["ck_onramp"] = "cs_onramp"
    credentials = {"username": "ck_onramp", "password": "cs_other"}
    outcome = live_check(
        "woocommerce", "rest_api_key", {"site": "https://store.example"}, credentials
    )
    assert outcome is not None and outcome.code == "invalid_credentials"
    assert "Consumer key is missing" in outcome.advice
