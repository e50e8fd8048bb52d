"""Error reports never show a secret (SECURITY.md: error pages): what the flow and the admin
receive — credentials typed in, a dropped ``.ionapi`` file, an OAuth app's secret — is hidden
from Django's DEBUG error page, posted values and the variables of every frame alike.

Each test breaks the encryption key ring (a real misconfiguration) so that storing the secret
fails with an unhandled error, and reads the technical 500 page DEBUG serves."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import link_session

pytestmark = pytest.mark.django_db
HIDDEN = "********************"
CANARY = "canary-Secret-7f3a9c"


@pytest.fixture
def debug_without_keys(settings):
    """DEBUG on (its technical error page), and no key to encrypt with: saving fails."""
    settings.DEBUG = True
    settings.ONRAMP_ENCRYPTION_KEYS = ""
    settings.ONRAMP_ENCRYPTION_KEY_FILE = ""


def error_page(client: Client, path: str, data: dict) -> str:
    client.raise_request_exception = False
    response = client.post(path, data)
    assert response.status_code == 500
    page = response.content.decode()
    assert "ImproperlyConfigured" in page and "No encryption keys" in page  # DEBUG's page
    return page


def test_credentials_typed_in_the_flow_are_hidden(acme, debug_without_keys):
    _, token = link_session(acme.partner)
    path = f"/connect/{token}/s/infoplus/api_key/details/"
    page = error_page(Client(), path, {"site": "acme", "api_key": CANARY})
    assert CANARY not in page and HIDDEN in page


def test_a_dropped_ionapi_file_is_hidden(acme, fake_systems, debug_without_keys):
    ionapi = fake_systems.ion.make_ionapi(cs=CANARY + "-cs", sask=CANARY + "-sask")
    _, token = link_session(acme.partner)
    dropped = SimpleUploadedFile("ACME_TST.ionapi", json.dumps(ionapi).encode())
    path = f"/connect/{token}/s/infor-sxe/ionapi/credentials-file/upload/"
    page = error_page(Client(), path, {"ionapi": dropped})
    assert CANARY not in page and HIDDEN in page


def test_an_oauth_apps_secret_entered_in_the_admin_is_hidden(acme, operator, debug_without_keys):
    admin = operator()
    form = {"partner": acme.partner.pk, "system": "xero", "client_id": "app-1"}
    page = error_page(admin, "/admin/connections/oauthapp/add/", form | {"client_secret": CANARY})
    assert CANARY not in page and HIDDEN in page
