"""What every admin page shares (``admin/base.py``): no secret, token or private key on any
page, and no page framed."""

from __future__ import annotations

import secrets

import pytest
from django.contrib.admin.utils import quote

from connections.models import Connection, ValidationAttempt
from connections.services.signing_keys import signing_key_generate, signing_key_private_pem
from tests.factories import link_session

pytestmark = pytest.mark.django_db


def test_the_admin_never_shows_secrets_or_tokens(acme, end_user, operator, fake_systems):
    admin = operator()
    canary = "canary-admin-" + secrets.token_hex(8)
    fake_systems.infoplus.sites["acme"] = {canary}
    end_user().walk(
        "s/infoplus/api_key/details/",
        {"site": "acme", "api_key": canary},
    )
    connection = Connection.objects.get()
    attempt = ValidationAttempt.objects.first()
    pages = [
        f"/admin/connections/{name}/"
        for name in (
            "connection",
            "validationattempt",
            "linksession",
            "partner",
            "partnerkey",
            "event",
            "connectiontoken",
            "signingkey",
        )
    ]
    session, _ = link_session(acme.partner)
    signing_key = signing_key_generate(session=session, kind="ec")
    private_body = signing_key_private_pem(signing_key).splitlines()[1]
    pages += [
        f"/admin/connections/signingkey/{quote(signing_key.pk)}/change/",
        f"/admin/connections/connection/{quote(connection.pk)}/change/",
        f"/admin/connections/validationattempt/{quote(attempt.pk)}/change/",
        f"/admin/connections/partner/{quote(acme.partner.pk)}/change/",
    ]
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert canary not in html, url
        assert acme.secret not in html, url
        assert connection.credentials not in html, url
        assert private_body not in html and signing_key.private_key not in html, url
        assert response["X-Frame-Options"] == "DENY"
