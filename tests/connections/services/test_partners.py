"""Partners' origins (``services/partners.py``): exact origins only, however they arrive
(``create_partner``, the API), and written as browsers write them."""

from __future__ import annotations

import pytest
from django.core.management import call_command

BAD_ORIGINS = [
    "* 'unsafe-inline'",
    "https://app.example.com 'unsafe-inline'",
    "https://*.example.com",
    "https://app.example.com/path",
    "https://user@app.example.com",
    "http://app.example.com",
    "javascript:alert(1)",
    "https://app.example.com;script-src *",
]


@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_create_partner_and_the_api_refuse_bad_origins(db, api, origin):
    with pytest.raises(Exception, match="is not an origin"):
        call_command("create_partner", "--name", "X", "--origin", origin)
    body = {"end_user": {"id": "u"}, "allowed_origin": origin}
    response = api.post("/api/v1/link-sessions", body, content_type="application/json")
    assert response.status_code == 400


def test_plain_http_localhost_origins_only_when_allowed(db, settings):
    from connections.services.partners import origin_normalize

    assert origin_normalize("http://localhost:3000") == "http://localhost:3000"
    settings.ONRAMP_ALLOW_HTTP_LOCALHOST = False
    with pytest.raises(Exception, match="is not an origin"):
        origin_normalize("http://localhost:3000")


def test_an_origin_is_written_as_browsers_write_it():
    from connections.services.partners import origin_normalize

    assert origin_normalize("https://App.Example.com:443") == "https://app.example.com"
    assert origin_normalize("https://app.example.com:8443") == "https://app.example.com:8443"
