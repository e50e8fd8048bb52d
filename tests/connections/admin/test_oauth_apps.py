"""Partners' OAuth apps (``admin/oauth_apps.py``): set in the admin, the client secret stored
encrypted and never shown again."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote

pytestmark = pytest.mark.django_db


def test_an_oauth_app_is_set_in_the_admin_and_its_secret_never_shown_again(acme, operator):
    from connections.models import OAuthApp

    admin = operator()
    add = "/admin/connections/oauthapp/add/"
    assert admin.get(add).status_code == 200  # was a FieldError (500)
    form = {"partner": acme.partner.pk, "system": "xero", "client_id": "app-1"}
    saved = admin.post(add, form | {"client_secret": "xero-secret-42"})
    assert saved.status_code == 302
    app = OAuthApp.objects.get()
    assert app.client_id == "app-1" and "xero-secret-42" not in app.client_secret
    page = admin.get(f"/admin/connections/oauthapp/{quote(app.pk)}/change/").content.decode()
    assert "xero-secret-42" not in page and "app-1" in page
