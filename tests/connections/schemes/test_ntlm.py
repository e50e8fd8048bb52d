"""Windows authentication (NTLM) against a server that checks the handshake as Windows does
(pyspnego's acceptor), the connection kept for the three messages."""

from __future__ import annotations

import pytest

from tests.factories import live_check

pytestmark = pytest.mark.django_db
SLUG, METHOD = "microsoft-dynamics-business-central-on-premises", "windows"
CONFIG = {"server": "https://bc.acme.test:7048", "instance": "BC"}


@pytest.fixture
def bc(fake_systems, catalog):
    fake_systems.bc_windows.users("ACME:svc-onramp:Winter2026!")
    return fake_systems.bc_windows


def test_a_windows_account_passes_the_check_through_the_ntlm_handshake(bc):
    outcome = live_check(
        SLUG, METHOD, CONFIG, {"username": "ACME\\svc-onramp", "password": "Winter2026!"}
    )

    assert outcome is None
    challenged, answered = bc.requests[-2:]
    assert challenged.headers["authorization"].startswith("NTLM ")  # the Type 1 message
    assert answered.headers["authorization"].startswith("NTLM ")  # the Type 3, same connection


def test_a_wrong_password_is_refused_as_invalid_credentials(bc):
    outcome = live_check(
        SLUG, METHOD, CONFIG, {"username": "ACME\\svc-onramp", "password": "nope"}
    )

    assert outcome is not None and outcome.code == "invalid_credentials"


def test_an_authenticated_connection_is_never_lent_to_another_check(bc):
    good = {"username": "ACME\\svc-onramp", "password": "Winter2026!"}
    assert live_check(SLUG, METHOD, CONFIG, good) is None

    wrong = live_check(SLUG, METHOD, CONFIG, {**good, "password": "guess"})

    assert wrong is not None and wrong.code == "invalid_credentials"
