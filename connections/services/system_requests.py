"""The "Can't find your system?" path: an end user names their system; the partner hears of it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from catalog.models import SystemRequest
from catalog.search import fold
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import LinkSession
from connections.security.ratelimit import Limit, enforce
from connections.services.audit import event_record

REQUESTS_PER_SESSION_HOUR = 5


def system_request_record(*, session: LinkSession, name: str, query: str = "") -> SystemRequest:
    """Record the request once per name and session, and tell the partner (event + webhook
    ``catalog.system_requested``)."""
    clean = " ".join(name.split())[:120]
    normalized = " ".join(fold(clean))[:120]
    if not normalized:
        raise OnrampError("invalid_name", _("Enter the name of the system you use."), 400)
    existing = SystemRequest.objects.filter(link_session_id=session.pk, normalized=normalized)
    if found := existing.first():
        return found
    limit = Limit(f"onramp:system-request:{session.pk}", REQUESTS_PER_SESSION_HOUR, 3600)
    enforce((limit, _("You have sent several names already. Thank you!")))
    try:
        with transaction.atomic():
            return _record(session, clean, normalized, query)
    except IntegrityError:  # the same name from this session, a moment ago
        return existing.get()


def _record(session: LinkSession, name: str, normalized: str, query: str) -> SystemRequest:
    row = SystemRequest.objects.create(
        name=name,
        normalized=normalized,
        partner_id=session.partner_id,
        link_session_id=session.pk,
    )
    event_record(
        partner=session.partner,
        kind=EventKind.CATALOG_SYSTEM_REQUESTED,
        actor=f"end_user:{session.end_user_id}",
        link_session=session,
        data={"name": name, "query": " ".join(query.split())[:100]},
    )
    return row
