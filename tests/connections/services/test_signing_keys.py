"""Signing keys made in the flow (``services/signing_keys.py``): generating one is throttled,
and a session keeps only its newest unused key."""

from __future__ import annotations

from connections.models import SigningKey
from tests.end_user import HTMX


def test_certificate_generation_is_throttled_and_keeps_one_key(end_user, settings, rate_clock):
    user = end_user()
    url = "s/netsuite/m2m/certificate/generate/"
    statuses = [user.post(url, {"kind": "ec"}, headers=HTMX) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2]["Retry-After"]) <= 60
    assert "Wait a moment" in statuses[2].content.decode()
    assert SigningKey.objects.count() == 1  # the older, unused key is gone
    rate_clock(61)
    assert user.post(url, {"kind": "ec"}, headers=HTMX).status_code == 200
