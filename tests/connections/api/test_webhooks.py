"""Webhooks: what a partner's receiver gets for every state change, verified with the
``standardwebhooks`` package itself, and what happens when the receiver is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.utils import timezone

from connections.models import Connection, Event, WebhookDelivery, WebhookEndpoint
from connections.services.connections import connection_record_check, connection_revoke
from connections.services.link_sessions import link_session_mark
from connections.services.webhook_deliveries import webhook_sweep
from connections.verification.failures import describe
from tests.conftest import post
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db
HOOK_URL = "https://hooks.acme.test/onramp"


@pytest.fixture
def endpoint(api, fake_systems, django_capture_on_commit_callbacks):
    """An endpoint registered through the API; its secret given to the receiver."""
    created = post(api, "/webhook-endpoints", {"url": HOOK_URL})
    assert created.status_code == 201
    fake_systems.receiver.secrets.append(created.json()["secret"])
    return created.json()


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Run a block's deliveries (their on-commit sends), as a worker would at once."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- the endpoint API ------------------------------------------------------------------------


def test_an_endpoints_secret_is_shown_once_and_stored_encrypted(api, endpoint):
    assert endpoint["secret"].startswith("whsec_") and endpoint["url"] == HOOK_URL
    listed = api.get("/api/v1/webhook-endpoints").json()["data"]
    assert listed == [{k: v for k, v in endpoint.items() if k != "secret"}]
    stored = WebhookEndpoint.objects.get()
    assert endpoint["secret"] not in stored.secret


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "http://hooks.acme.test/x"}, "invalid_url"),
        ({"url": "https://127.0.0.1/x"}, "invalid_url"),
        ({"url": "https://localhost/x"}, "invalid_url"),
        ({"url": HOOK_URL, "events": ["connection.exploded"]}, "unknown_event"),
        ({"url": HOOK_URL, "surprise": 1}, "invalid_request"),
    ],
)
def test_bad_endpoints_are_refused_clearly(api, body, code):
    response = post(api, "/webhook-endpoints", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_other_partners_endpoints_and_deliveries_are_invisible(api, endpoint):
    from connections.services.partners import partner_create

    _, other_secret = partner_create(name="Other", origins=[], actor="test")
    other = Client(headers={"Authorization": f"Bearer {other_secret}"})
    assert other.get("/api/v1/webhook-endpoints").json() == {"data": []}
    assert other.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}").status_code == 404
    assert post(other, f"/webhook-endpoints/{endpoint['id']}/rotate-secret").status_code == 404
    assert post(other, f"/webhook-endpoints/{endpoint['id']}/enable").status_code == 404


# --- events, signed and verified ------------------------------------------------------------


def test_every_state_change_reaches_the_receiver_signed(acme, endpoint, fake_systems, delivered):
    receiver = fake_systems.receiver
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    with delivered():
        connection, _ = connected(acme.partner)
    with delivered():
        connection_record_check(connection_id=connection.id, outcome=describe("forbidden"))
    with delivered():
        connection_record_check(connection_id=connection.id, outcome=None)
    with delivered():
        connection_revoke(connection=Connection.objects.get(), actor="test")
    session, _ = link_session(acme.partner, end_user_id="leaver")
    with delivered():
        link_session_mark(session=session, milestone="exited", value="prepare")
    assert receiver.types() == [
        "connection.created",
        "connection.invalid",
        "connection.restored",
        "connection.revoked",
        "link_session.exited",
    ]
    assert receiver.refused == []
    invalid = receiver.accepted[1]
    assert invalid["data"]["connection_id"] == connection.id
    assert invalid["data"]["status"] == "invalid" and invalid["data"]["system"] == "infoplus"
    assert invalid["data"]["error"]["code"] == "forbidden"
    assert receiver.accepted[4]["data"] == {
        "link_session_id": session.id,
        "end_user_id": "leaver",
        "system": None,
        "mode": "live",
        "screen": "prepare",
    }
    assert all(event["id"].startswith("msg_") for event in receiver.accepted)
    sequences = [event["data"].get("sequence") for event in receiver.accepted]
    assert sequences == [1, 2, 3, 4, None]  # the connection's own order; a session has none


def test_an_endpoint_gets_only_the_events_it_asked_for(api, acme, fake_systems, delivered):
    created = post(api, "/webhook-endpoints", {"url": HOOK_URL, "events": ["connection.revoked"]})
    fake_systems.receiver.secrets.append(created.json()["secret"])
    with delivered():
        connection, _ = connected(acme.partner)
        connection_revoke(connection=connection, actor="test")
    assert fake_systems.receiver.types() == ["connection.revoked"]


def test_a_test_event_from_the_api(api, endpoint, fake_systems, delivered):
    with delivered():
        response = post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    assert response.status_code == 202
    assert fake_systems.receiver.types() == ["webhook.test"]
    assert fake_systems.receiver.accepted[0]["data"] == {"endpoint_id": endpoint["id"]}


def test_during_a_rotation_both_secrets_sign(api, endpoint, fake_systems, delivered):
    receiver = fake_systems.receiver
    new_secret = post(api, f"/webhook-endpoints/{endpoint['id']}/rotate-secret").json()["secret"]
    receiver.secrets[:] = [new_secret]  # the receiver switched at once
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    receiver.secrets[:] = [endpoint["secret"]]  # ...or not yet
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    assert receiver.types() == ["webhook.test", "webhook.test"] and receiver.refused == []
    WebhookEndpoint.objects.update(previous_secret_expires_at=timezone.now())
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    assert len(receiver.refused) == 1  # a day later only the new secret signs


# --- retries, failure, resend ---------------------------------------------------------------


def due_now() -> None:
    WebhookDelivery.objects.filter(status="pending").update(
        next_attempt_at=timezone.now(), dispatched_at=None
    )


def test_a_receiver_down_then_up_gets_the_event_with_the_same_id(
    api, endpoint, fake_systems, delivered
):
    receiver = fake_systems.receiver
    receiver.answers[:] = [503, 500]
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_status_code == 503 and "receiver unavailable" in delivery.last_response
    assert timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=5)
    for _ in range(2):
        due_now()
        webhook_sweep()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 3
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.id}  # one webhook-id across every retry
    listed = api.get(f"/api/v1/webhook-deliveries?endpoint_id={endpoint['id']}").json()["data"]
    assert listed[0]["status"] == "succeeded" and listed[0]["attempts"] == 3


def test_a_delivery_fails_after_its_schedule_and_can_be_resent(
    api, endpoint, fake_systems, settings, delivered
):
    settings.ONRAMP_WEBHOOK_RETRY_SCHEDULE = [5, 60]
    fake_systems.receiver.answers[:] = [500, 500, 500]
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    for _ in range(2):
        due_now()
        webhook_sweep()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 3
    failed = api.get("/api/v1/webhook-deliveries?status=failed").json()["data"]
    assert [d["id"] for d in failed] == [delivery.id]
    with delivered():
        resent = post(api, f"/webhook-deliveries/{delivery.id}/resend")
    assert resent.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def fail_once(api, endpoint, fake_systems, delivered) -> None:
    fake_systems.receiver.answers[:] = [500]
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")


def test_an_endpoint_failing_every_try_for_five_days_is_disabled(
    api, endpoint, fake_systems, delivered
):
    WebhookEndpoint.objects.update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1), consecutive_failures=9
    )
    fail_once(api, endpoint, fake_systems, delivered)  # the 10th failed try in a row
    stored = WebhookEndpoint.objects.get()
    assert not stored.enabled and "5 days" in stored.disabled_reason
    listed = api.get("/api/v1/webhook-endpoints").json()["data"][0]
    assert listed["enabled"] is False
    assert Event.objects.filter(kind="webhook_endpoint.disabled").count() == 1


def test_an_idle_endpoint_is_not_disabled_by_one_failure(api, endpoint, fake_systems, delivered):
    """Its last failure was a week ago and nothing was sent since: one more is not enough."""
    WebhookEndpoint.objects.update(
        failing_since=timezone.now() - timedelta(days=7), consecutive_failures=1
    )
    fail_once(api, endpoint, fake_systems, delivered)
    assert WebhookEndpoint.objects.get().enabled


def test_a_busy_endpoint_failing_for_an_hour_is_not_disabled(
    api, endpoint, fake_systems, delivered
):
    WebhookEndpoint.objects.update(
        failing_since=timezone.now() - timedelta(hours=1), consecutive_failures=500
    )
    fail_once(api, endpoint, fake_systems, delivered)
    assert WebhookEndpoint.objects.get().enabled


def test_a_success_starts_the_count_again(api, endpoint, fake_systems, delivered):
    WebhookEndpoint.objects.update(
        failing_since=timezone.now() - timedelta(days=6), consecutive_failures=9
    )
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    stored = WebhookEndpoint.objects.get()
    assert stored.consecutive_failures == 0 and stored.failing_since is None


def test_events_while_an_endpoint_is_disabled_are_held_then_sent_once_it_is_enabled(
    api, acme, endpoint, fake_systems, delivered
):
    WebhookEndpoint.objects.update(enabled=False, disabled_reason="Every try failed for 5 days.")
    with delivered():
        connection, _ = connected(acme.partner)
        connection_revoke(connection=connection, actor="test")
    assert fake_systems.receiver.requests == []
    held = api.get("/api/v1/webhook-deliveries?status=held").json()["data"]
    assert sorted(d["event_type"] for d in held) == ["connection.created", "connection.revoked"]
    refused = post(api, f"/webhook-deliveries/{held[0]['id']}/resend")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "endpoint_disabled"
    with delivered():
        enabled = post(api, f"/webhook-endpoints/{endpoint['id']}/enable")
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True and enabled.json()["released"] == 2
    assert enabled.json()["disabled_reason"] == ""
    assert fake_systems.receiver.types() == ["connection.created", "connection.revoked"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Event.objects.filter(kind="webhook_endpoint.enabled", actor__contains="key").exists()


def test_a_delivery_due_while_its_endpoint_is_disabled_is_held(
    api, endpoint, fake_systems, delivered
):
    fake_systems.receiver.answers[:] = [500]
    with delivered():
        post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    WebhookEndpoint.objects.update(enabled=False)
    due_now()
    webhook_sweep()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "held" and len(fake_systems.receiver.requests) == 1
    WebhookEndpoint.objects.update(enabled=True)  # enabled by an operator meanwhile
    webhook_sweep()  # the sweeper releases what an enabled endpoint still holds
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_tests_and_resends_share_a_budget_per_endpoint(api, acme, endpoint, delivered):
    with delivered():
        connected(acme.partner)
    delivery = WebhookDelivery.objects.get()
    for _ in range(5):
        assert post(api, f"/webhook-endpoints/{endpoint['id']}/test").status_code == 202
        assert post(api, f"/webhook-deliveries/{delivery.id}/resend").status_code == 202
    over = post(api, f"/webhook-endpoints/{endpoint['id']}/test")
    assert over.status_code == 429 and over.json()["error"]["code"] == "rate_limited"
    assert 0 < int(over["Retry-After"]) <= 60
    assert post(api, f"/webhook-deliveries/{delivery.id}/resend").status_code == 429
    assert WebhookDelivery.objects.count() == 6  # the refused test wrote nothing
    other = post(api, "/webhook-endpoints", {"url": HOOK_URL + "/other"}).json()
    assert post(api, f"/webhook-endpoints/{other['id']}/test").status_code == 202


def test_the_budget_holds_in_the_admin_too(endpoint, operator, rate_clock):
    admin = operator()
    send_test = {"action": "send_test", "_selected_action": [endpoint["id"]]}
    for _ in range(10):
        admin.post("/admin/connections/webhookendpoint/", send_test)
    page = admin.post("/admin/connections/webhookendpoint/", send_test, follow=True)
    assert "At most 10 test events and resends a minute" in page.content.decode()
    assert WebhookDelivery.objects.count() == 10
    rate_clock(61)
    admin.post("/admin/connections/webhookendpoint/", send_test)
    assert WebhookDelivery.objects.count() == 11


def test_deleting_an_endpoint_stops_its_deliveries(api, endpoint, acme):
    assert api.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}").status_code == 204
    connected(acme.partner)
    assert not WebhookDelivery.objects.exists()


# --- reconnect (update mode) ----------------------------------------------------------------


def test_reconnect_updates_the_same_connection_and_says_so(
    api, acme, endpoint, fake_systems, delivered
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    connection, token = connected(acme.partner)
    fake_systems.infoplus.sites["acme"] = {"key-2"}  # the customer rotated their key
    connection_record_check(connection_id=connection.id, outcome=describe("invalid_credentials"))
    body = {"end_user": {"id": "user-1"}, "connection_id": connection.id}
    link = post(api, "/link-sessions", body).json()
    user = Client()
    details = link["url"].split("/connect/", 1)[1]
    path = f"/connect/{details}s/infoplus/api_key/details/"
    assert "acme" in user.get(path).content.decode()  # the known site is filled in
    with delivered():
        user.post(path, {"site": "acme", "api_key": "key-1"})  # the old key: refused
    assert Connection.objects.get().status == "invalid"
    with delivered():
        user.post(path, {"site": "acme", "api_key": "key-2"})
    reconnected = Connection.objects.get()
    assert reconnected.id == connection.id and reconnected.status == "active"
    introspected = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/connection")
    assert introspected.status_code == 200  # the partner's token kept working
    proxied = Client(headers={"Authorization": f"Bearer {token}"}).get(
        "/api/v1/proxy/infoplus-wms/api/v3.0/lineOfBusiness/search"
    )
    assert proxied.status_code == 200
    assert fake_systems.infoplus.requests[-1].headers["api-key"] == "key-2"
    assert fake_systems.receiver.types()[-1] == "connection.reconnected"
    assert fake_systems.receiver.accepted[-1]["data"]["connection_id"] == connection.id


# --- the admin ------------------------------------------------------------------------------


def test_operators_send_test_events_resend_and_rotate_from_the_admin(
    endpoint, fake_systems, delivered, operator
):
    admin = operator()
    with delivered():
        admin.post(
            "/admin/connections/webhookendpoint/",
            {"action": "send_test", "_selected_action": [endpoint["id"]]},
        )
    delivery = WebhookDelivery.objects.get()
    assert fake_systems.receiver.types() == ["webhook.test"]
    with delivered():
        admin.post(
            "/admin/connections/webhookdelivery/",
            {"action": "resend", "_selected_action": [delivery.id]},
        )
    assert [e["id"] for e in fake_systems.receiver.accepted] == [delivery.id, delivery.id]
    page = admin.post(
        "/admin/connections/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint["id"]]},
    )
    assert "whsec_" in page.content.decode() and "no-store" in page["Cache-Control"]
    listing = admin.get(f"/admin/connections/webhookendpoint/{quote(endpoint['id'])}/change/")
    assert "whsec_" not in listing.content.decode()


# --- endpoints on this machine, for test keys in development -------------------------------


@pytest.fixture
def test_key(acme) -> Client:
    from connections.services.partners import partner_key_create

    _, secret = partner_key_create(partner=acme.partner, actor="test", mode="test")
    return Client(headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def local_webhooks(settings):
    settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS = True  # what DEBUG=1 (make demo) turns on


def exit_a_session(partner, mode: str) -> None:
    session, _ = link_session(partner, end_user_id=f"{mode}-user", mode=mode)
    link_session_mark(session=session, milestone="exited", value="prepare")


def test_a_test_key_receives_its_events_on_localhost(
    acme, test_key, fakes, local_webhooks, delivered
):
    receiver = fakes.receiver
    receiver.reset()  # no host map: Onramp calls http://127.0.0.1:<port> itself
    created = post(test_key, "/webhook-endpoints", {"url": f"{receiver.url}/onramp"})
    assert created.status_code == 201, created.content
    receiver.secrets.append(created.json()["secret"])
    with delivered():
        exit_a_session(acme.partner, "live")  # a live key's: not for a test endpoint
        exit_a_session(acme.partner, "test")
        post(test_key, f"/webhook-endpoints/{created.json()['id']}/test")
    # Two subjects: sent side by side, so in either order (order holds per subject).
    assert sorted(receiver.types()) == ["link_session.exited", "webhook.test"]
    exited = next(e for e in receiver.accepted if e["type"] == "link_session.exited")
    assert exited["data"]["mode"] == "test" and receiver.refused == []
    listed = test_key.get("/api/v1/webhook-deliveries").json()["data"]
    assert {d["status"] for d in listed} == {"succeeded"} and len(listed) == 2


def test_a_live_key_cannot_use_a_local_endpoint_and_is_told_why(api, local_webhooks):
    for url in ("http://localhost:4000/hooks", "http://127.0.0.1:4000/x", "https://[::1]/x"):
        refused = post(api, "/webhook-endpoints", {"url": url})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_url"
        assert "test key" in refused.json()["error"]["message"]


def test_without_the_development_setting_local_endpoints_are_refused_with_what_to_do(test_key):
    refused = post(test_key, "/webhook-endpoints", {"url": "http://localhost:4000/hooks"})
    assert refused.status_code == 400
    assert "ONRAMP_ALLOW_LOCAL_WEBHOOKS" in refused.json()["error"]["message"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hooks",  # private: another machine, never
        "http://169.254.169.254/latest/meta-data",
        "http://localhost@hooks.acme.test/x",
        "http://127.0.0.1.nip.io/x",
        "http://2130706433/x",
        "http://hooks.acme.test/x",  # public, but plain http
    ],
)
def test_only_this_machine_is_opened_to_test_keys(test_key, local_webhooks, url):
    refused = post(test_key, "/webhook-endpoints", {"url": url})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_url"


def test_turning_the_setting_off_stops_deliveries_to_this_machine(
    acme, test_key, fakes, settings, local_webhooks, delivered
):
    fakes.receiver.reset()
    created = post(test_key, "/webhook-endpoints", {"url": f"{fakes.receiver.url}/onramp"})
    settings.ONRAMP_ALLOW_LOCAL_WEBHOOKS = False
    with delivered():
        exit_a_session(acme.partner, "test")
    assert fakes.receiver.requests == []
    delivery = WebhookDelivery.objects.get(endpoint_id=created.json()["id"])
    assert delivery.status == "pending" and delivery.last_error


def test_test_and_live_endpoints_never_meet(api, test_key, endpoint, local_webhooks):
    created = post(test_key, "/webhook-endpoints", {"url": "http://localhost:4000/x"}).json()
    assert [e["id"] for e in test_key.get("/api/v1/webhook-endpoints").json()["data"]] == [
        created["id"]
    ]
    assert [e["id"] for e in api.get("/api/v1/webhook-endpoints").json()["data"]] == [
        endpoint["id"]
    ]
    assert test_key.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}").status_code == 404
    assert post(test_key, f"/webhook-endpoints/{endpoint['id']}/test").status_code == 404
    assert api.delete(f"/api/v1/webhook-endpoints/{created['id']}").status_code == 404
    assert WebhookEndpoint.objects.get(pk=created["id"]).mode == "test"


def test_a_live_endpoint_still_hears_test_events_marked_as_such(acme, endpoint, delivered):
    with delivered():
        exit_a_session(acme.partner, "test")
    assert WebhookDelivery.objects.get().event.payload["data"]["mode"] == "test"
