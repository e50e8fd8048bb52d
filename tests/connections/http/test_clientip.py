"""Client IPs (``http/clientip.py``): behind a trusted proxy each client has its own budget;
without one, a forged ``X-Forwarded-For`` changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import link_session

MINTSOFT_DETAILS = "s/mintsoft/login/details/"


def submit_from(acme, forwarded_for: str) -> int:
    _, token = link_session(acme.partner, end_user_id=forwarded_for)
    form = {"username": "ops", "password": "wrong"}
    client = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded_for)
    return client.post(f"/connect/{token}/{MINTSOFT_DETAILS}", form).status_code


@pytest.mark.parametrize("trusted", ["1", "10.0.0.0/8"])
def test_behind_a_trusted_proxy_each_client_has_its_own_ip_budget(
    acme, fake_systems, settings, trusted
):
    settings.ONRAMP_VALIDATIONS_PER_IP_HOUR = 1
    settings.ONRAMP_TRUSTED_PROXIES = trusted
    assert submit_from(acme, "203.0.113.7") == 303
    assert submit_from(acme, "203.0.113.7") == 429
    assert submit_from(acme, "198.51.100.9") == 303


def test_without_trusted_proxies_a_forged_header_changes_nothing(acme, fake_systems, settings):
    settings.ONRAMP_VALIDATIONS_PER_IP_HOUR = 1
    assert submit_from(acme, "203.0.113.7") == 303
    assert submit_from(acme, "198.51.100.9") == 429  # both are 10.0.0.5 to us
