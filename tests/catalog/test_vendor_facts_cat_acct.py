"""Live checks of accounting definitions against simulators of their vendors (issue 21): what a
customer sees when the sign-in works, and when the vendor refuses it."""

from __future__ import annotations

import pytest

from tests.factories import live_check
from tests.fakes.vendors_cat_acct import FakeWave

pytestmark = pytest.mark.django_db

SIGNED_IN = {"refresh_token": "r", "expires_at": "9999999999"}


@pytest.fixture(scope="module")
def vendors():
    fakes = [FakeWave().start()]
    yield {type(fake).__name__: fake for fake in fakes}
    for fake in fakes:
        fake.stop()


@pytest.fixture
def wave(vendors, settings):
    fake = vendors["FakeWave"]
    fake.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = f"gql.waveapps.com={fake.url}"
    return fake


def test_wave_check_sends_a_well_formed_graphql_query(wave):
    wave.tokens["t-full"] = {"user:read", "business:read"}
    assert live_check("wave", "sign_in", {}, {"access_token": "t-full", **SIGNED_IN}) is None
    query = wave.requests[-1].json()["query"]
    assert query.startswith("query { user { id }") and "{{" not in query


def test_wave_refusal_inside_a_200_answer_names_the_missing_permission(wave):
    wave.tokens["t-user"] = {"user:read"}
    outcome = live_check("wave", "sign_in", {}, {"access_token": "t-user", **SIGNED_IN})
    assert outcome is not None and outcome.code == "check_refused"
    assert "businesses" in outcome.message


def test_wave_refused_token_asks_to_sign_in_again(wave):
    outcome = live_check("wave", "sign_in", {}, {"access_token": "revoked", **SIGNED_IN})
    assert outcome is not None and outcome.code == "invalid_credentials"
