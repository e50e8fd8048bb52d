from typing import Any

from connections.models import Connection, Event, LinkSession, Partner


def event_record(
    *,
    partner: Partner,
    kind: str,
    actor: str,
    connection: Connection | None = None,
    link_session: LinkSession | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Write one audit row. ``data`` must never hold a secret: ids, codes, names only.

    Kinds partners subscribe to also get their webhook deliveries, in the same transaction.
    """
    from connections.services.webhooks import webhook_fan_out  # webhooks record events too

    event = Event.objects.create(
        partner=partner,
        kind=kind,
        actor=actor[:200],
        connection=connection,
        link_session=link_session,
        data=data or {},
    )
    webhook_fan_out(event)
    return event
