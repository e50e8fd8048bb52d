"""SECURITY.md, rule by rule, where other modules do not already cover it."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys

import pytest
from django.apps import apps
from django.contrib.admin.utils import quote
from django.test import Client

from connections.models import Connection, ValidationAttempt
from connections.security import crypto
from connections.services.signing_keys import signing_key_generate, signing_key_private_pem
from tests.conftest import ROOT
from tests.factories import link_session
from tests.fakes.mintsoft import MintsoftUser

pytestmark = pytest.mark.django_db


def database_text() -> str:
    """Every value of every row, as text: what a database dump would show."""
    rows = []
    for model in apps.get_models():
        rows += [str(values) for values in model.objects.values_list()]
    return "\n".join(rows)


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_canary_secrets_never_reach_the_database_logs_or_html(
    end_user, fake_systems, everything_logged
):
    key_canary = "canary-key-" + secrets.token_hex(8)
    password_canary = "canary-pw-" + secrets.token_hex(8)
    fake_systems.infoplus.sites["acme"] = {key_canary}
    fake_systems.mintsoft.users["ops"] = MintsoftUser(password_canary)
    pages = end_user().walk(
        "s/infoplus/api_key/details/",
        {"site": "acme", "api_key": key_canary},
    )
    pages += end_user().walk(
        "s/mintsoft/login/details/",
        {"username": "ops", "password": password_canary},
    )
    pages += end_user().walk(
        "s/mintsoft/login/details/",  # a failure too
        {"username": "ops", "password": password_canary + "x"},
    )
    assert Connection.objects.filter(status="active").count() == 2
    assert any("is connected" in page for page in pages)

    dump = database_text()
    logs = "\n".join(record.getMessage() for record in everything_logged.records)
    for canary in (key_canary, password_canary):
        assert canary not in dump
        assert canary not in logs
        assert all(canary not in page for page in pages)
    # …while the ciphertext does hold them, under the current key.
    connection = Connection.objects.get(system_id="infoplus")
    assert crypto.unseal(
        connection.credentials, aad=crypto.associated_data(connection, "credentials")
    ) == {"api_key": key_canary}


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


def test_admin_actions_revoke_and_revalidate(
    acme, operator, fake_systems, django_capture_on_commit_callbacks
):
    from tests.factories import connected

    admin = operator()
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, token = connected(acme.partner)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/connections/connection/",
            {"action": "revalidate", "_selected_action": [connection.pk]},
        )
    assert connection.attempts.get().status == "succeeded"
    admin.post(
        "/admin/connections/connection/", {"action": "revoke", "_selected_action": [connection.pk]}
    )
    connection.refresh_from_db()
    assert connection.status == "revoked"
    assert connection.events.filter(kind="connection.revoked", actor="admin:admin").exists()
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/connection").status_code == 401


def test_admin_login_locks_out_after_repeated_failures(admin_user, settings):
    settings.ONRAMP_ADMIN_LOGIN_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_remote_error_text_is_escaped_and_truncated(end_user, fake_systems):
    from tests.fakes.base import Reply

    hostile = "Denied: <script>alert('x')</script>" + "y" * 500
    original = fake_systems.infoplus.handle
    fake_systems.infoplus.handle = lambda request: Reply(401, {"message": hostile})
    try:
        pages = end_user().walk(
            "s/infoplus/api_key/details/",
            {"site": "acme", "api_key": "k"},
        )
    finally:
        fake_systems.infoplus.handle = original
    failure = next(page for page in pages if "rejected these credentials" in page)
    assert "<script>alert" not in failure
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in failure
    assert "y" * 200 not in failure


def test_every_page_has_a_strict_content_security_policy(acme):
    _, token = link_session(acme.partner)
    for url in [f"/connect/{token}/", "/admin/login/", "/api/v1/docs"]:
        policy = Client().get(url)["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in policy
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy


def test_flow_html_has_no_inline_script_without_the_nonce(acme):
    _, token = link_session(acme.partner)
    response = Client().get(f"/connect/{token}/")
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert html.count("<script") == html.count(f'nonce="{nonce}"') - html.count("<style")


def production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ONRAMP_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "onramp.example.com",
            "ONRAMP_ENCRYPTION_KEYS": crypto.new_key_spec("prod1"),
            "ONRAMP_DATA_DIR": os.environ["ONRAMP_DATA_DIR"],
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra,
        }
    )
    return env


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_production_refuses_to_start_without_its_secrets():
    env = production_env()
    del env["ONRAMP_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "ONRAMP_ENCRYPTION_KEYS" in result.stderr
    env = production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_production_serves_no_sandbox_or_demo():
    script = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "for path in ('/sandbox/api/v1/company', '/demo/'):\n"
        "    try:\n        resolve(path); print('served', path)\n"
        "    except Resolver404:\n        print('absent', path)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.stdout.split("\n")[:2] == ["absent /sandbox/api/v1/company", "absent /demo/"]
