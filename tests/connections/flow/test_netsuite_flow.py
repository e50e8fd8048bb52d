"""NetSuite's screens: method choice, guide, the certificate step, details, and sharing."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connections.models import Connection, SigningKey, ValidationAttempt
from tests.end_user import HTMX
from tests.keys import openssl_pair

pytestmark = pytest.mark.django_db
ACCOUNT = "1234567_SB1"


def html(response) -> str:
    return response.content.decode()


def test_method_screen_recommends_m2m_and_warns_about_tba(end_user):
    user = end_user()
    page = html(user.get("s/netsuite/"))
    assert page.index("OAuth 2.0 with a certificate") < page.index("Token-Based Authentication")
    assert "Recommended" in page
    assert "2027.1" in page and "no new TBA integrations" in page


def test_the_guide_explains_the_web_services_only_role(end_user):
    user = end_user()
    page = html(user.get("s/netsuite/m2m/"))
    for phrase in [
        "Web Services Only Role",
        "only when SOAP Web Services is enabled",
        "do not work with RESTlets",
        "Client Credentials (Machine to Machine) Grant",
        "OAuth 2.0 Client Credentials (M2M) Setup",
        "copy the Certificate ID",
        "Log in using OAuth 2.0 Access Tokens",
    ]:
        assert phrase in page, phrase


def test_send_to_admin_shares_a_read_only_page_without_session_authority(end_user):
    user = end_user()
    page = html(user.get("s/netsuite/m2m/"))
    link = re.search(r'id="guide-link" value="([^"]+)"', page).group(1)
    assert link.endswith("/guides/netsuite/m2m/?lang=en") and user.token not in link
    assert "mailto:?subject=" in page
    shared = Client().get(link.split("testserver", 1)[1])
    assert shared.status_code == 200
    assert "Web Services Only Role" in html(shared) and "onr_" not in html(shared)
    assert shared["X-Frame-Options"] == "DENY"
    assert Client().get("/guides/netsuite/nope/").status_code == 404


def test_details_need_the_certificate_first(end_user):
    user = end_user()
    response = user.post(
        "s/netsuite/m2m/details/",
        {"account": ACCOUNT, "client_id": "a" * 64, "certificate_id": "c" * 20},
    )
    assert response.status_code == 422
    assert "Make or upload the certificate first" in html(response)


def test_generate_shows_and_downloads_only_the_public_certificate(end_user):
    user = end_user()
    response = user.post("s/netsuite/m2m/certificate/generate/", {"kind": "rsa"}, headers=HTMX)
    section = html(response)
    assert section.lstrip().startswith('<section id="certificate"')
    assert "Certificate ready (PS256)" in section
    key = SigningKey.objects.get()
    assert key.fingerprint in section and "PRIVATE" not in section
    download = user.get("certificate.pem")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.content.decode() == key.certificate_pem
    assert b"PRIVATE KEY" not in download.content
    assert "BEGIN" not in key.private_key  # ciphertext at rest


def test_full_page_generate_returns_to_details(end_user):
    user = end_user()
    response = user.post("s/netsuite/m2m/certificate/generate/", {"kind": "ec"})
    assert response.status_code == 303 and response["Location"].endswith("/details/")
    assert "Certificate ready (ES256)" in html(user.get(response["Location"]))


def upload(user, certificate: bytes, private_key: bytes, passphrase: str = ""):
    return user.post(
        "s/netsuite/m2m/certificate/upload/",
        {
            "certificate": SimpleUploadedFile("public.pem", certificate),
            "private_key": SimpleUploadedFile("private.pem", private_key),
            "passphrase": passphrase,
        },
        headers=HTMX,
    )


def test_upload_of_openssl_files(end_user, tmp_path):
    user = end_user()
    public, private = openssl_pair(tmp_path)
    response = upload(user, public.read_bytes(), private.read_bytes())
    assert response.status_code == 200 and "Certificate ready (PS256)" in html(response)
    assert SigningKey.objects.get().source == "uploaded"


def test_upload_of_a_2048_bit_key_is_refused_with_the_reason(end_user, tmp_path):
    user = end_user()
    public, private = openssl_pair(tmp_path, ["-newkey", "rsa:2048"])
    response = upload(user, public.read_bytes(), private.read_bytes())
    assert response.status_code == 422
    assert "2048-bit keys are refused" in html(response) and 'role="alert"' in html(response)
    assert not SigningKey.objects.exists()


def test_upload_without_files_and_too_large_files(end_user):
    user = end_user()
    response = user.post("s/netsuite/m2m/certificate/upload/", {}, headers=HTMX)
    assert response.status_code == 422 and "Choose the certificate file" in html(response)
    big = upload(user, b"x" * 70_000, b"y")
    assert big.status_code == 422 and "too large" in html(big)


def test_certificate_steps_exist_only_for_certificate_methods(end_user):
    user = end_user()
    response = user.post("s/netsuite/tba/certificate/generate/", {"kind": "ec"})
    assert response.status_code == 404
    assert user.get("certificate.pem").status_code == 404


def test_m2m_through_the_flow_keeps_the_private_key_secret(end_user, fake_systems, api):
    user = end_user()
    account = fake_systems.netsuite.add_account(ACCOUNT)
    user.post("s/netsuite/m2m/certificate/generate/", {"kind": "ec"})
    certificate = user.get("certificate.pem").content.decode()
    integration = account.add_integration()
    mapping = account.map_certificate(integration, certificate)  # the admin's upload
    response = user.submit(
        "s/netsuite/m2m/details/",
        {
            "account": "https://1234567-sb1.app.netsuite.com/app/center/card.nl",
            "client_id": integration.client_id,
            "certificate_id": mapping.certificate_id,
        },
    )
    assert response.status_code == 303
    done = html(user.get("done/"))
    public_token = re.search(r'data-public-token="([^"]+)"', done).group(1)
    exchanged = api.post(
        "/api/v1/token-exchange", {"public_token": public_token}, content_type="application/json"
    ).json()
    connection = Connection.objects.get(pk=exchanged["connection_id"])
    assert connection.config["account"] == ACCOUNT
    assert connection.config["client_id"] == integration.client_id
    assert ValidationAttempt.objects.get().status == "succeeded"
    from connections.services.credentials import connection_credentials

    assert SigningKey.objects.get().private_key == ""  # only the connection keeps it now
    assert ValidationAttempt.objects.get().credentials == ""
    private_body = connection_credentials(connection)["private_key"].splitlines()[1]
    dump = "\n".join(
        str(row) for model in apps.get_models() for row in model.objects.values_list()
    )
    assert private_body not in dump and private_body not in done


def test_tba_through_the_flow(end_user, fake_systems):
    user = end_user()
    account = fake_systems.netsuite.add_account(ACCOUNT)
    integration = account.add_integration(m2m=False, tba=True)
    token = account.add_token(integration)
    response = user.submit(
        "s/netsuite/tba/details/",
        {
            "account": "1234567-sb1",
            "consumer_key": integration.client_id,
            "consumer_secret": integration.consumer_secret,
            "token_id": token.token_id,
            "token_secret": token.token_secret,
        },
    )
    assert response.status_code == 303
    assert ValidationAttempt.objects.get().status == "succeeded"
    assert "token_secret" not in Connection.objects.get().config


def test_empty_uploads_are_refused(end_user):
    user = end_user()
    response = user.post(
        "s/netsuite/m2m/certificate/upload/",
        {"certificate": BytesIO(b""), "private_key": BytesIO(b"")},
        headers=HTMX,
    )
    assert response.status_code == 422


def test_choosing_a_different_certificate_swaps_only_the_certificate_section(end_user):
    user = end_user()
    user.post("s/netsuite/m2m/certificate/generate/", {"kind": "ec"}, headers=HTMX)
    section = user.get("s/netsuite/m2m/certificate/?certificate=new", headers=HTMX)
    page = html(section)
    assert section.status_code == 200 and page.lstrip().startswith('<section id="certificate"')
    assert "Generate the certificate" in page and 'name="client_id"' not in page
