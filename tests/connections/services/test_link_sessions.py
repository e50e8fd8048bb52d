"""Operators' actions on link sessions: an extend racing another operator's cancel never
revives the cancelled link (the UPDATE is conditional, like the cancel's)."""

from __future__ import annotations

import pytest
from django.test import Client

from connections.models import Event, LinkSession
from connections.services.link_sessions import (
    OPERATOR_EXTENSION,
    link_session_cancel,
    link_session_extend,
)
from tests.factories import link_session
from tests.races import committed_elsewhere, held_until_waited_on

pytestmark = pytest.mark.django_db(transaction=True)


def cancel_by_b(session: LinkSession) -> bool:
    fresh = LinkSession.objects.get(pk=session.pk)
    return link_session_cancel(session=fresh, actor="operator:b")


@pytest.mark.parametrize("cancel_commits", ["before_the_extend", "while_the_extend_waits"])
def test_an_extend_racing_a_cancel_leaves_the_link_cancelled(acme, cancel_commits):
    session, token = link_session(acme.partner)
    seen_by_a = LinkSession.objects.get(pk=session.pk)  # operator A's page, still open
    if cancel_commits == "before_the_extend":
        assert committed_elsewhere(lambda: cancel_by_b(session)) is True
        extended = link_session_extend(session=seen_by_a, actor="operator:a")
    else:
        with held_until_waited_on(lambda: cancel_by_b(session)) as cancel:
            extended = link_session_extend(session=seen_by_a, actor="operator:a")
        assert cancel["result"] is True
    assert extended is False  # ... and A is told so
    assert Client().get(f"/connect/{token}/").status_code == 410
    kinds = set(Event.objects.filter(link_session=session).values_list("kind", flat=True))
    assert "link_session.cancelled" in kinds and "link_session.extended" not in kinds


def test_two_extends_at_once_add_one_day_and_the_second_is_told(acme):
    session, _ = link_session(acme.partner)
    seen_by_a = LinkSession.objects.get(pk=session.pk)
    seen_by_b = LinkSession.objects.get(pk=session.pk)
    assert committed_elsewhere(lambda: link_session_extend(session=seen_by_b, actor="b"))
    assert link_session_extend(session=seen_by_a, actor="a") is False
    session.refresh_from_db()
    assert session.expires_at == seen_by_a.expires_at + OPERATOR_EXTENSION
