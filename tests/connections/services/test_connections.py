"""Connections (``services/connections.py``): one session makes one connection at most, which
the database holds to."""

from __future__ import annotations

import pytest

from connections.models import Connection
from tests.factories import connected

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_database_refuses_a_second_connection_from_one_session(acme):
    from django.db import IntegrityError, transaction

    connection, _ = connected(acme.partner)
    session = connection.origin_session
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(
            partner=acme.partner, system_id="infoplus", end_user_id="u", origin_session=session
        )
