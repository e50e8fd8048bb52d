"""Buttons on an object's own page (``OperatorAdmin.buttons``): each opens a confirmation,
confirming runs the list's own action on that row; a view-only operator sees none of them and
gets 403 for each, with nothing done."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Permission, User
from django.test import Client, RequestFactory
from django.utils import timezone

from connections.models import (
    Agent,
    Connection,
    Event,
    LinkSession,
    PartnerKey,
    WebhookDelivery,
    WebhookEndpoint,
)
from connections.services.webhooks import webhook_endpoint_create
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db


def change_url(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{quote(obj.pk)}/change/"


def button_url(obj, action: str) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{quote(obj.pk)}/do/{action}/"


def press(client: Client, obj, action: str):
    """Open the object's page, follow its button to the confirmation, confirm."""
    page = client.get(change_url(obj)).content.decode()
    assert f'href="{button_url(obj, action)}"' in page, action
    confirmation = client.get(button_url(obj, action))
    assert confirmation.status_code == 200 and 'method="post"' in confirmation.content.decode()
    return client.post(button_url(obj, action))


@pytest.fixture
def rows(acme, django_capture_on_commit_callbacks):
    """One row of each page that has buttons."""
    webhook_endpoint_create(
        partner=acme.partner, url="https://hooks.acme.test/", events=[], actor="test"
    )
    connection, _ = connected(acme.partner)
    session, _ = link_session(acme.partner)
    return {
        Connection: connection,
        LinkSession: session,
        WebhookEndpoint: WebhookEndpoint.objects.get(),
        WebhookDelivery: WebhookDelivery.objects.first(),
        PartnerKey: PartnerKey.objects.get(),
        type(acme.partner): acme.partner,
        Agent: Agent.objects.create(partner=acme.partner, end_user_id="u", token_digest="d"),
    }


def every_button() -> list[tuple[type, str]]:
    return [
        (model, action)
        for model, page in admin.site._registry.items()
        for action in getattr(page, "buttons", {})
    ]


def test_every_button_is_an_action_that_declares_its_permission():
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    assert len(every_button()) >= 14
    for model, action in every_button():
        found = admin.site._registry[model].get_actions(request)
        assert action in found, (model.__name__, action)
        assert found[action][0].allowed_permissions, (model.__name__, action)


def test_a_view_only_operator_sees_no_button_and_gets_403_for_each(acme, operator, rows):
    viewer = operator(
        permissions=Permission.objects.filter(codename__startswith="view_").values_list(
            "codename", flat=True
        )
    )
    events_before = Event.objects.count()
    keys_before = list(PartnerKey.objects.values_list("pk", "revoked_at", "expires_at"))
    expires_before = LinkSession.objects.get(pk=rows[LinkSession].pk).expires_at
    for model, action in every_button():
        obj = rows[model]
        page = viewer.get(change_url(obj))
        assert page.status_code == 200 and "/do/" not in page.content.decode(), model
        assert viewer.get(button_url(obj, action)).status_code == 403, (model, action)
        assert viewer.post(button_url(obj, action)).status_code == 403, (model, action)
    assert Event.objects.count() == events_before
    assert list(PartnerKey.objects.values_list("pk", "revoked_at", "expires_at")) == keys_before
    assert LinkSession.objects.get(pk=rows[LinkSession].pk).expires_at == expires_before
    assert Connection.objects.get().status == "active"


def test_confirming_needs_the_csrf_token_and_opening_does_nothing(acme, operator, rows):
    admin_user = operator()
    session = rows[LinkSession]
    before = LinkSession.objects.get(pk=session.pk).expires_at
    assert admin_user.get(button_url(session, "cancel")).status_code == 200
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.get(username="admin"))
    assert strict.post(button_url(session, "cancel")).status_code == 403
    assert LinkSession.objects.get(pk=session.pk).expires_at == before
    assert admin_user.get(button_url(session, "no_such_action")).status_code == 404


def test_link_session_buttons_unlock_extend_and_cancel(acme, operator, rows):
    admin_user = operator()
    session = rows[LinkSession]
    LinkSession.objects.filter(pk=session.pk).update(locked_at=timezone.now(), failed_attempts=8)
    answer = press(admin_user, session, "unlock")
    assert answer.status_code == 302 and answer["Location"] == change_url(session)
    assert LinkSession.objects.get(pk=session.pk).locked_at is None
    before = LinkSession.objects.get(pk=session.pk).expires_at
    press(admin_user, session, "extend")
    assert LinkSession.objects.get(pk=session.pk).expires_at - before >= timedelta(days=1)
    press(admin_user, session, "cancel")
    assert LinkSession.objects.get(pk=session.pk).expires_at <= timezone.now()
    page = admin_user.get(change_url(session)).content.decode()
    assert "Cancelled 1 link session(s)." in page  # the list's own action said so
    actors = set(Event.objects.filter(link_session=session).values_list("actor", flat=True))
    assert "admin:admin" in actors


def test_connection_buttons_reconnect_link_revalidate_and_revoke(
    acme, operator, rows, fake_systems, django_capture_on_commit_callbacks
):
    admin_user = operator()
    connection = rows[Connection]
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    made = press(admin_user, connection, "reconnect_link").content.decode()
    assert "Secret" not in made and "Copy" in made
    url = re.search(r"https?://[^<\s]+/connect/(onr_lt_\w+)/", made).group(0)
    session = LinkSession.objects.filter(connection=connection).latest("created_at")
    assert session.end_user_id == connection.end_user_id
    opened = Client().get(url[url.index("/connect/") :], follow=True)
    assert opened.status_code == 200 and "/s/infoplus/" in opened.redirect_chain[-1][0]
    with django_capture_on_commit_callbacks(execute=True):
        press(admin_user, connection, "revalidate")
    assert connection.attempts.get().status == "succeeded"
    press(admin_user, connection, "revoke")
    assert Connection.objects.get(pk=connection.pk).status == "revoked"


def test_a_delivery_is_resent_from_its_page(acme, operator, rows):
    admin_user = operator()
    delivery = rows[WebhookDelivery]
    press(admin_user, delivery, "resend")
    resent = Event.objects.filter(kind="webhook_delivery.resent", actor="admin:admin")
    assert resent.filter(data__delivery=delivery.pk).exists()


def test_keys_are_created_rolled_and_revoked_from_the_partner_page(acme, operator, rows):
    admin_user = operator()
    partner, old = rows[type(acme.partner)], rows[PartnerKey]
    made = press(admin_user, partner, "create_test_key").content.decode()
    assert re.search(r"onr_sk_test_\w+", made)
    page = admin_user.get(change_url(partner)).content.decode()
    assert page.index(PartnerKey.objects.get(mode="test").display) < page.index(old.display)
    assert f'href="{button_url(old, "roll")}"' in page  # each key's buttons, on its row
    rolled = admin_user.post(button_url(old, "roll")).content.decode()
    new_secret = re.search(r'<code id="shown-1">([^<]+)</code>', rolled).group(1)
    old.refresh_from_db()
    assert old.revoked_at is None and old.expires_at - timezone.now() > timedelta(hours=23)
    assert (
        Client(headers={"Authorization": f"Bearer {new_secret}"})
        .get("/api/v1/connections")
        .status_code
        == 200
    )
    admin_user.post(button_url(old, "revoke"))
    assert PartnerKey.objects.get(pk=old.pk).revoked_at is not None
