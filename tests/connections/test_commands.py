import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from connections.demo import demo_key_file
from connections.models import (
    Connection,
    Partner,
    PartnerKey,
    ValidationAttempt,
    WebhookDelivery,
)
from connections.security import crypto
from tests.factories import connected

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_partner_prints_a_working_key_once(catalog):
    output = run(
        "create_partner",
        "--name",
        "Globex",
        "--origin",
        "https://app.globex.test",
        "--origin",
        "http://localhost:3000",
    )
    secret = re.search(r"(onr_sk_\w+)", output).group(1)
    partner = Partner.objects.get(name="Globex")
    assert partner.allowed_origins == ["https://app.globex.test", "http://localhost:3000"]
    assert PartnerKey.objects.get(partner=partner).digest != secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/connections").status_code == 200


def test_create_partner_test_prints_a_test_key_that_sees_only_the_sandbox(catalog):
    output = run("create_partner", "--name", "Initech", "--test")
    secret = re.search(r"Test secret key .*: (onr_sk_test_\w+)", output).group(1)
    key = PartnerKey.objects.get(partner__name="Initech")
    assert key.mode == "test" and key.digest != secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/partner").json()["mode"] == "test"
    systems = client.get("/api/v1/systems").json()["data"]
    assert [system["slug"] for system in systems] == ["sandbox-erp"]


def test_create_partner_refuses_a_bad_origin():
    with pytest.raises(CommandError, match="not an origin"):
        run("create_partner", "--name", "X", "--origin", "http://app.example.com/path")


def test_seed_demo_rotates_the_demo_key(catalog):
    first = re.search(r"(onr_sk_\w+)", run("seed_demo", "--base-url", "http://127.0.0.1:8000"))
    second = re.search(r"(onr_sk_\w+)", run("seed_demo", "--base-url", "http://127.0.0.1:8000"))
    assert Partner.objects.count() == 1
    assert demo_key_file().read_text() == second.group(1)
    assert demo_key_file().stat().st_mode & 0o777 == 0o600
    old = Client(headers={"Authorization": f"Bearer {first.group(1)}"})
    new = Client(headers={"Authorization": f"Bearer {second.group(1)}"})
    assert old.get("/api/v1/connections").status_code == 401
    assert new.get("/api/v1/connections").status_code == 200
    assert Partner.objects.get().allowed_origins == [
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ]


def test_seed_demo_gives_a_test_key_and_the_sandbox_sign_in(catalog):
    first = run("seed_demo", "--base-url", "http://127.0.0.1:8000")
    second = run("seed_demo", "--base-url", "http://127.0.0.1:8000")
    old, new = (
        re.search(r"Test secret key: +(onr_sk_test_\w+)", out).group(1) for out in (first, second)
    )
    assert (
        Client(headers={"Authorization": f"Bearer {old}"}).get("/api/v1/keys").status_code == 401
    )
    tester = Client(headers={"Authorization": f"Bearer {new}"})
    assert tester.get("/api/v1/partner").json()["mode"] == "test"
    sandbox = tester.get("/api/v1/systems").json()["data"][0]
    sign_in = next(method for method in sandbox["methods"] if method["signs_in"])
    assert sign_in["oauth_app_registered"]  # the practice client, as the README says


def test_reencrypt_moves_every_secret_to_the_newest_key_and_can_rerun(acme, settings):
    connection, _ = connected(acme.partner, credentials={"api_key": "k-1"})
    old_key = crypto.key_id_of(connection.credentials)
    settings.ONRAMP_ENCRYPTION_KEYS = (
        crypto.new_key_spec("next") + "," + settings.ONRAMP_ENCRYPTION_KEYS
    )
    output = run("reencrypt", "--batch-size", "1")
    assert "connections.Connection: 1 re-encrypted" in output
    connection.refresh_from_db()
    assert crypto.key_id_of(connection.credentials) == "next" != old_key
    assert crypto.unseal(
        connection.credentials, aad=crypto.associated_data(connection, "credentials")
    ) == {"api_key": "k-1"}
    for attempt in ValidationAttempt.objects.all():
        assert crypto.key_id_of(attempt.credentials) == "next"
    assert "connections.Connection: 0 re-encrypted" in run("reencrypt")
    # Once everything moved, the old key can leave the ring.
    settings.ONRAMP_ENCRYPTION_KEYS = settings.ONRAMP_ENCRYPTION_KEYS.split(",")[0]
    assert Connection.objects.get().credentials == connection.credentials


def test_stale_secrets_of_abandoned_sessions_are_erased(
    acme, fake_systems, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from connections.models import LinkSession, SigningKey
    from connections.services.signing_keys import signing_key_generate
    from tests.factories import link_session

    abandoned, token = link_session(acme.partner)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            f"/connect/{token}/s/infoplus/api_key/details/", {"site": "acme", "api_key": "wrong"}
        )
    signing_key_generate(session=abandoned, kind="ec")
    fresh, _ = link_session(acme.partner)
    signing_key_generate(session=fresh, kind="ec")
    assert "0 attempt(s)" in run("purge_stale_secrets")  # not expired yet: kept
    LinkSession.objects.filter(pk=abandoned.pk).update(
        expires_at=timezone.now() - timedelta(days=2)
    )
    assert "1 attempt(s) and 1 signing key(s)" in run("purge_stale_secrets")
    assert ValidationAttempt.objects.get().credentials == ""
    assert SigningKey.objects.get(link_session=fresh).private_key != ""


def one_row_of_every_model_with_secrets(partner) -> list:
    """A row of each model that declares ``encrypted_fields``, each secret a distinct canary."""
    from django.utils import timezone

    from connections.models import (
        AgentPairing,
        CredentialFile,
        LinkSession,
        OAuthApp,
        RemoteRevocation,
        SignIn,
        SigningKey,
        WebhookEndpoint,
    )
    from connections.services.encryption import encrypted_models

    connection, _ = connected(partner)
    session = LinkSession.objects.get()
    builders = {
        Connection: lambda: connection,
        LinkSession: lambda: session,
        ValidationAttempt: lambda: ValidationAttempt.objects.get(),
        SigningKey: lambda: SigningKey.objects.create(
            link_session=session,
            source="generated",
            algorithm="ES256",
            certificate_pem="-",
            fingerprint="-",
            not_after=timezone.now(),
        ),
        CredentialFile: lambda: CredentialFile.objects.create(link_session=session, kind="ionapi"),
        OAuthApp: lambda: OAuthApp.objects.create(partner=partner, system="xero", client_id="c"),
        SignIn: lambda: SignIn.objects.create(
            link_session=session, system_slug="xero", method="oauth", state_digest="d"
        ),
        RemoteRevocation: lambda: RemoteRevocation.objects.create(connection=connection),
        WebhookEndpoint: lambda: WebhookEndpoint.objects.create(
            partner=partner, url="https://hooks.acme.test/"
        ),
        AgentPairing: lambda: AgentPairing.objects.create(
            link_session=session,
            code_digest="d",
            host="erp.acme.lan",
            port=443,
            system_slug="erpnext-on-premises",
            method="api_key",
            expires_at=timezone.now(),
        ),
    }
    rows = []
    for model in encrypted_models():
        assert model in builders, f"{model.__name__} stores secrets: build one row of it here"
        row = builders[model]()
        for field in model.encrypted_fields:
            canary = f"canary-{model.__name__}-{field}".encode()
            setattr(row, field, crypto.encrypt(canary, aad=crypto.associated_data(row, field)))
        row.save(update_fields=list(model.encrypted_fields))
        rows.append(row)
    return rows


def test_reencrypt_moves_the_secrets_of_every_model_that_has_them(acme, settings):
    from connections.services.encryption import keys_in_use, keys_missing

    rows = one_row_of_every_model_with_secrets(acme.partner)
    old_ring = settings.ONRAMP_ENCRYPTION_KEYS
    old_key = crypto.keyring().current_id
    settings.ONRAMP_ENCRYPTION_KEYS = crypto.new_key_spec("next") + "," + old_ring
    assert keys_in_use().get(old_key, 0) >= sum(len(r.encrypted_fields) for r in rows)
    run("reencrypt")
    assert old_key not in keys_in_use()
    settings.ONRAMP_ENCRYPTION_KEYS = settings.ONRAMP_ENCRYPTION_KEYS.split(",")[0]
    assert keys_missing() == {}
    call_command("check", "--database", "default")  # no secret left under a removed key
    for row in rows:
        row.refresh_from_db()
        for field in row.encrypted_fields:
            token = getattr(row, field)
            assert crypto.key_id_of(token) == "next", (row._meta.label, field)
            plain = crypto.decrypt(token, aad=crypto.associated_data(row, field))
            assert plain == f"canary-{type(row).__name__}-{field}".encode()
    settings.ONRAMP_ENCRYPTION_KEYS = old_ring  # the old keys alone open none of them
    for row in rows:
        for field in row.encrypted_fields:
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt(getattr(row, field), aad=crypto.associated_data(row, field))


# --- run_scheduled: beat's work in the embedded default (make demo) --------------------------


def a_failed_test_event(api, fake_systems, capture) -> WebhookDelivery:
    """A webhook.test whose first try the receiver refused; its retry is due now."""
    created = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.acme.test/x"},
        content_type="application/json",
    ).json()
    fake_systems.receiver.secrets.append(created["secret"])
    fake_systems.receiver.answers[:] = [503]
    with capture(execute=True):
        api.post(f"/api/v1/webhook-endpoints/{created['id']}/test")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    a_while_ago = timezone.now() - timedelta(minutes=1)  # as the inline send left it, later
    WebhookDelivery.objects.update(next_attempt_at=a_while_ago, dispatched_at=a_while_ago)
    return delivery


def test_run_scheduled_sends_the_retries_that_are_due(
    api, fake_systems, django_capture_on_commit_callbacks
):
    delivery = a_failed_test_event(api, fake_systems, django_capture_on_commit_callbacks)
    run("run_scheduled", "--once")
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert fake_systems.receiver.types() == ["webhook.test"]


def test_run_scheduled_goes_on_past_a_task_that_fails(
    api, fake_systems, django_capture_on_commit_callbacks, settings, caplog
):
    delivery = a_failed_test_event(api, fake_systems, django_capture_on_commit_callbacks)
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "connections.tasks.no_such_task", "schedule": 1.0},
        **settings.CELERY_BEAT_SCHEDULE,
    }
    run("run_scheduled", "--once")
    assert "scheduled task broken failed" in caplog.text
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_run_scheduled_leaves_a_broker_to_beat(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(CommandError, match="celery -A config beat"):
        run("run_scheduled", "--once")
