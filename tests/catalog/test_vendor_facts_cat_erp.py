"""Sign-in twists of systems added to the catalog in issue 21 (helper cat-erp), each checked
end to end against a simulator that refuses what the real system refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import live_check
from tests.fakes.vendors_cat_erp import FakeMRPeasy, FakeStriven, FakeVantagepoint


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, FakeStriven | FakeVantagepoint | FakeMRPeasy]]:
    fakes = {"striven": FakeStriven(), "deltek": FakeVantagepoint(), "mrpeasy": FakeMRPeasy()}
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture
def vendors(running, settings):
    for fake in running.values():
        fake.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = ",".join(
        f"{host}={fake.url}" for fake in running.values() for host in fake.hosts
    )
    return running


def test_striven_gets_a_token_with_the_client_in_basic_and_its_id_in_the_form(vendors):
    vendors["striven"].clients["client-1"] = "secret-1"
    credentials = {"client_id": "client-1", "client_secret": "secret-1"}
    assert live_check("striven", "client_credentials", {}, credentials) is None


def test_striven_says_so_when_the_secret_is_wrong(vendors):
    vendors["striven"].clients["client-1"] = "secret-1"
    credentials = {"client_id": "client-1", "client_secret": "not-it"}
    outcome = live_check("striven", "client_credentials", {}, credentials)
    assert outcome is not None and outcome.code == "invalid_client"


VANTAGEPOINT = {"site": "https://acme.deltekfirst.com/acme"}


def vantagepoint_credentials(**changes: str) -> dict[str, str]:
    values = {
        "database": "ACME_PROD",
        "client_id": "vp-client",
        "client_secret": "vp-secret",
        "username": "onramp",
        "password": "pw-1",
    }
    return values | changes


def test_vantagepoint_signs_in_with_the_database_named(vendors):
    vendors["deltek"].users["onramp"] = "pw-1"
    outcome = live_check(
        "deltek-vantagepoint", "password_grant", VANTAGEPOINT, vantagepoint_credentials()
    )
    assert outcome is None


def test_vantagepoint_refuses_another_database_as_a_wrong_sign_in(vendors):
    vendors["deltek"].users["onramp"] = "pw-1"
    credentials = vantagepoint_credentials(database="ACME_TEST")
    outcome = live_check("deltek-vantagepoint", "password_grant", VANTAGEPOINT, credentials)
    assert outcome is not None and outcome.code == "invalid_credentials"


def test_mrpeasy_accepts_a_partial_list_as_a_good_answer(vendors):
    vendors["mrpeasy"].keys["key-1"] = "secret-1"
    credentials = {"username": "key-1", "password": "secret-1"}
    assert live_check("mrpeasy", "api_key", {}, credentials) is None


def test_mrpeasy_says_so_when_the_secret_is_wrong(vendors):
    vendors["mrpeasy"].keys["key-1"] = "secret-1"
    credentials = {"username": "key-1", "password": "nope"}
    outcome = live_check("mrpeasy", "api_key", {}, credentials)
    assert outcome is not None and outcome.code == "invalid_credentials"
