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


NETSUITE = FieldSpec(name="account", label="Account ID", normalize="netsuite_account")


@pytest.mark.parametrize(
    ("raw", "account"),
    [
        ("1234567", "1234567"),
        ("1234567_SB1", "1234567_SB1"),
        ("1234567-sb1", "1234567_SB1"),
        (" 1234567_sb2 ", "1234567_SB2"),
        ("1234567_RP", "1234567_RP"),
        ("TSTDRV1234567", "TSTDRV1234567"),
        ("https://1234567-sb1.app.netsuite.com/app/center/card.nl?sc=-29&whence=", "1234567_SB1"),
        ("https://1234567.suitetalk.api.netsuite.com", "1234567"),
        (
            "https://1234567-SB1.restlets.api.netsuite.com/app/site/hosting/restlet.nl",
            "1234567_SB1",
        ),
        ("1234567.app.netsuite.com", "1234567"),
    ],
)
def test_netsuite_account_ids_in_every_form_a_user_pastes(raw, account):
    assert normalize(raw, NETSUITE) == account


@pytest.mark.parametrize(
    "raw",
    [
        "12",
        "1234567_sb",
        "1234567 SB1",
        "https://system.netsuite.com/app/login",
        "https://1234567.example.com",
        "12345678901234567890123456789",
        "1234567__SB1",
    ],
)
def test_impossible_netsuite_account_ids_say_where_to_look(raw):
    with pytest.raises(FieldError, match="Setup > Company > Company Information"):
        normalize(raw, NETSUITE)


def test_netsuite_hosts_are_derived_from_the_account_id():
    from catalog.normalizers import with_derived

    assert with_derived((NETSUITE,), {"account": "1234567_SB1"}) == {
        "account": "1234567_SB1",
        "account_host": "1234567-sb1",
    }


MANHATTAN = FieldSpec(name="environment", label="Address", normalize="manhattan_host")


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("https://acme.sce.manh.com/udc/wm/", "acme.sce.manh.com"),
        ("acme.sce.manh.com", "acme.sce.manh.com"),
        ("https://acme-auth.scp.manh.com/org-login", "acme.scp.manh.com"),
        (" ACME.omni.manh.com ", "acme.omni.manh.com"),
    ],
)
def test_manhattan_addresses_keep_their_platform(raw, host):
    assert normalize(raw, MANHATTAN) == host


@pytest.mark.parametrize(
    "raw", ["acme", "acme.manh.com", "https://acme.example.com", "a.b.c.manh.com"]
)
def test_a_manhattan_address_must_name_the_platform(raw):
    with pytest.raises(FieldError, match=r"acme\.sce\.manh\.com"):
        normalize(raw, MANHATTAN)


def test_the_manhattan_sign_in_host_is_derived_from_the_address():
    from catalog.normalizers import with_derived

    derived = with_derived((MANHATTAN,), {"environment": "acme.sce.manh.com"})
    assert derived["environment_auth_host"] == "acme-auth.sce.manh.com"
