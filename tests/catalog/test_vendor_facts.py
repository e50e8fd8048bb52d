"""What checks of definitions against their vendors' documentation found, kept fixed: each test
fails if the finding comes back (issue 21)."""

from __future__ import annotations

import re

import pytest

from catalog.registry import SYSTEMS_DIR, definitions, get_definition
from catalog.search import search_systems
from catalog.sync import catalog_sync
from tests.factories import live_check

pytestmark = pytest.mark.django_db

DATED_VERSION = re.compile(r"/(20\d\d-\d\d)(?:/|$)")


@pytest.mark.parametrize("query", ["navision", "dynamics nav"])
def test_on_premises_nav_does_not_lead_to_business_central_online(query):
    catalog_sync()
    assert "microsoft-dynamics-365-business-central" not in search_systems(query)


@pytest.mark.parametrize(
    ("slug", "categories"),
    [
        ("infoplus", {"wms", "inventory", "3pl"}),
        ("mintsoft", {"wms", "3pl"}),
        ("infor-sxe", {"erp", "accounting", "oms"}),
    ],
)
def test_categories_name_what_the_vendor_sells(slug, categories):
    assert categories <= set(get_definition(slug).categories)


@pytest.mark.parametrize("slug", ["infoplus", "mintsoft"])
def test_facts_cite_the_vendors_own_pages(slug):
    docs = get_definition(slug).docs
    vendor_hosts = {"infoplus": "infopluscommerce.com", "mintsoft": "mintsoft"}
    assert any(vendor_hosts[slug] in url for url in docs)


@pytest.mark.parametrize(
    "definition",
    [d for d in definitions().values() if DATED_VERSION.search(d.base_url)],
    ids=lambda d: d.slug,
)
def test_a_pinned_api_version_is_one_the_cited_pages_show(definition):
    version = DATED_VERSION.search(definition.base_url).group(1)
    source = (SYSTEMS_DIR / f"{definition.slug}.toml").read_text()
    header = "".join(line for line in source.splitlines(True) if line.startswith("#"))
    assert version in header, f"{definition.slug} pins {version}, which its sources do not name"


def test_veeqo_says_a_refused_key_may_mean_a_payment_is_due(fake_systems):
    fake_systems.veeqo.keys["owing"] = False  # Veeqo answers 401 while a payment is due
    fake_systems.veeqo.keys["paid"] = True
    assert live_check("veeqo", "api_key", {}, {"api_key": "paid"}) is None
    outcome = live_check("veeqo", "api_key", {}, {"api_key": "owing"})
    assert outcome is not None and outcome.code == "invalid_credentials"
    assert "payment" in outcome.advice


@pytest.mark.parametrize(("company", "sent"), [("121", "121"), ("", None)])
def test_infor_ln_reads_the_company_given_else_the_default_one(settings, company, sent):
    from connections.verification.run import build_target, verify
    from tests.connections.verification.test_catalog_definitions import values_for
    from tests.fakes.echo import FakeEcho

    definition = get_definition("infor-ln")
    method = definition.methods[0]
    echo = FakeEcho().start()
    try:
        settings.ONRAMP_OUTBOUND_HOST_MAP = f"*={echo.url}"
        config, credentials = values_for(definition, method)
        config["ln_company"] = company
        echo.expect(definition, method, {**config, **credentials})
        assert verify(build_target(definition, method, config), credentials, {}.update) is None
        checks = [r for r in echo.requests if not echo.is_login(r.path)]
        assert [r.headers.get("x-infor-lncompany") for r in checks] == [sent, sent]
    finally:
        echo.stop()
