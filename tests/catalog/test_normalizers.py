import pytest

from catalog.normalizers import FieldError, normalize
from catalog.schema import FieldSpec

SITE = FieldSpec(name="site", label="Site", normalize="subdomain", domain="infopluswms.com")
HOST = FieldSpec(name="host", label="Host", normalize="hostname")


@pytest.mark.parametrize(
    "raw",
    [
        "acme",
        " ACME ",
        "acme.infopluswms.com",
        "https://acme.infopluswms.com",
        "https://Acme.infopluswms.com/infoplus-wms/#/orders?x=1",
        "acme.infopluswms.com/login",
    ],
)
def test_pasted_site_addresses_become_the_site_name(raw):
    assert normalize(raw, SITE) == "acme"


@pytest.mark.parametrize(
    "raw", ["acme corp", "-acme", "acme_1", "https://", "a" * 64, "ac?me", "acme.other.com"]
)
def test_impossible_site_names_get_a_clear_message(raw):
    with pytest.raises(FieldError, match="first part of your address"):
        normalize(raw, SITE)


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("erp.example.com", "erp.example.com"),
        ("HTTPS://ERP.Example.com:8443/x", "erp.example.com"),
    ],
)
def test_hostnames(raw, host):
    assert normalize(raw, HOST) == host


def test_required_and_too_long():
    with pytest.raises(FieldError, match="required"):
        normalize("   ", FieldSpec(name="x", label="X"))
    with pytest.raises(FieldError, match="too long"):
        normalize("x" * 201, FieldSpec(name="x", label="X"))


def test_patterns_use_the_definition_message():
    spec = FieldSpec(name="x", label="X", pattern=r"\d+", pattern_message="Digits only.")
    assert normalize("123", spec) == "123"
    with pytest.raises(FieldError, match="Digits only"):
        normalize("12a", spec)
