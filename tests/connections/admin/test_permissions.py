"""Every admin action checks its permission: a view-only operator can look, never act."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import RequestFactory

from connections.models import Connection, PartnerKey, WebhookEndpoint
from connections.services.webhooks import webhook_endpoint_create
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db


def every_action() -> list[tuple[str, str]]:
    """(changelist URL, action name) for every action of every registered page, as a
    superuser sees them."""
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    found = []
    for model, page in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        found += [(url, name) for name in page.get_actions(request)]
    return found


def test_every_action_declares_the_permission_it_needs():
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    for model, page in admin.site._registry.items():
        for name, (function, _, _) in page.get_actions(request).items():
            assert getattr(function, "allowed_permissions", ()), f"{model.__name__}.{name}"


def test_a_view_only_operator_gets_403_for_every_action_and_nothing_changes(acme, operator):
    connection, _ = connected(acme.partner)
    link_session(acme.partner)
    webhook_endpoint_create(
        partner=acme.partner, url="https://hooks.acme.test/", events=[], actor="test"
    )
    viewer = operator(
        permissions=Permission.objects.filter(codename__startswith="view_").values_list(
            "codename", flat=True
        )
    )
    keys_before = PartnerKey.objects.count()
    secret_before = WebhookEndpoint.objects.get().secret
    actions = every_action()
    assert len(actions) >= 15  # the walk reaches every page's actions
    for url, name in actions:
        assert viewer.get(url).status_code == 200, url
        rows = [str(pk) for pk in _any_pks(url)]
        answer = viewer.post(url, {"action": name, "_selected_action": rows, "index": "0"})
        assert answer.status_code == 403, (url, name)
    assert PartnerKey.objects.count() == keys_before
    assert WebhookEndpoint.objects.get().secret == secret_before
    assert Connection.objects.get(pk=connection.pk).status == "active"


def _any_pks(url: str) -> list:
    for model in admin.site._registry:
        if url == f"/admin/{model._meta.app_label}/{model._meta.model_name}/":
            return list(model.objects.values_list("pk", flat=True)[:1])
    return []


def test_an_operator_with_the_change_permission_may_act(acme, operator):
    connection, _ = connected(acme.partner)
    editor = operator(permissions=["view_connection", "change_connection"])
    answer = editor.post(
        "/admin/connections/connection/",
        {"action": "revoke", "_selected_action": [connection.pk], "index": "0"},
    )
    assert answer.status_code == 302
    assert Connection.objects.get(pk=connection.pk).status == "revoked"
