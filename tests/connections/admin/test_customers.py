"""Find a customer (``admin/customers.py``): from the admin's index, an end user's link
sessions and connections across partners, each part only for who may view it."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote

from connections.services.partners import partner_create
from tests.factories import connected, link_session

pytestmark = pytest.mark.django_db
FIND = "/admin/reports/customer/"


def test_the_index_starts_with_find_a_customer(operator):
    html = operator().get("/admin/").content.decode()
    assert f'action="{FIND}"' in html
    assert html.index('id="find-a-customer"') < html.index('id="reports"')
    assert FIND not in operator(permissions=[]).get("/admin/").content.decode()


def test_an_end_users_sessions_and_connections_across_partners(acme, operator):
    other, _ = partner_create(name="Globex", origins=[], actor="test")
    connection, _ = connected(acme.partner, end_user_id="cust-42")
    session, _ = link_session(other, end_user_id="cust-42")
    stranger, _ = link_session(acme.partner, end_user_id="cust-420")
    html = operator().get(FIND, {"end_user_id": " cust-42 "}).content.decode()
    assert f"/admin/connections/connection/{quote(connection.pk)}/change/" in html
    assert f"/admin/connections/linksession/{quote(session.pk)}/change/" in html
    assert "Globex" in html and "Acme" in html
    assert str(stranger.pk) not in html  # the id exactly, not a prefix
    empty = operator().get(FIND, {"end_user_id": "nobody"}).content.decode()
    assert "No connection for this end user." in empty
    assert "No link session for this end user." in empty


def test_each_part_only_for_who_may_view_it(acme, operator):
    connected(acme.partner, end_user_id="cust-7")
    sessions_only = operator(permissions=["view_linksession"])
    html = sessions_only.get(FIND, {"end_user_id": "cust-7"}).content.decode()
    assert "customer-link-sessions" in html and "customer-connections" not in html
    assert operator(permissions=[]).get(FIND, {"end_user_id": "cust-7"}).status_code == 403
    long = operator().get(FIND, {"end_user_id": "x" * 5000})
    assert long.status_code == 200
