"""Claiming a batch of due webhook deliveries fairly: round-robin between endpoints, each lane
within its endpoint's and partner's send budgets (``webhook_budget.py``).

A task reads up to ``CANDIDATES`` due deliveries (the one its message names first, then the
oldest), groups them into lanes (one subject's deliveries to one endpoint, oldest first), and
orders the lanes endpoint by endpoint in turn. It takes budget slots for the lanes it can
(a slot carries several lanes one after another), up to ``BATCH`` deliveries, and only then
claims those lanes' rows, with a conditional UPDATE
under one token and a lease (a row another batch claimed meanwhile is not taken twice; a
killed worker's rows are due again when the lease ends). Lanes over budget are not claimed:
they stay due, and the end of one of their endpoint's or partner's sends calls a task for
them. A batch sends only to endpoints it has a place for in its process (``Places``: a few
batches per endpoint, fewer still to slow endpoints), so no receiver holds all the threads.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, zip_longest

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connections.models import DeliveryStatus, WebhookDelivery
from connections.services.webhook_budget import (
    Slot,
    Want,
    over_budget,
    slot_give_back,
    slots_take,
)
from connections.services.webhook_places import places, slow_endpoints

BATCH = 100  # deliveries claimed by one task
CANDIDATES = 100  # due deliveries a task looks at to choose its batch
COLUMNS = ("pk", "endpoint_id", "endpoint__partner_id", "event__connection_id")
COLUMNS += ("event__link_session_id",)


def timeout() -> float:
    return settings.ONRAMP_WEBHOOK_TIMEOUT


def lease() -> timedelta:
    """How long a worker holds a delivery it is sending before it is taken for dead."""
    return timedelta(seconds=timeout() * 1.5)


def start_within() -> float:
    """Seconds after its claim a batch may still start a send: one started later could end
    (a whole ``timeout()``) after the lease, and be sent again meanwhile by another worker."""
    return lease().total_seconds() - timeout() * 1.2


@dataclass
class Batch:
    """Deliveries this worker is sending, the token that proves it still holds them, and the
    budget slots it sends them through (by member), each lane's (endpoint, subject) by slot."""

    token: str
    deliveries: dict[str, WebhookDelivery]
    start_by: float  # time.monotonic() after which no send of it starts
    slots: dict[str, Slot] = field(default_factory=dict)
    lane_slot: dict[tuple[str, str], str] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)  # its places (``Places``)
    slow: set[str] = field(default_factory=set)  # of those, the slow ones
    slow_place: bool = False  # holds one of the process's places for slow batches
    more_due: bool = False  # lanes were left for want of room in the batch, none for budget


def due(now: datetime) -> Q:
    free = Q(claimed_until=None) | Q(claimed_until__lt=now)
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) & free


def batch_claim(first: str) -> Batch:
    """A batch of due deliveries, ``first`` first while it is due and within budget."""
    started, now = time.monotonic(), timezone.now()
    batch = Batch(secrets.token_hex(16), {}, started + start_within())
    try:
        _claim(batch, first, now)
    except BaseException:  # a database error: no slot or place is kept for nothing
        batch_end(batch)
        raise
    return batch


def _claim(batch: Batch, first: str, now: datetime) -> None:
    lanes = _candidate_lanes(first, now)
    wants = _round_robin(_within_places(batch, list(lanes)))
    chosen, left = _fill(wants, lanes)
    given = slots_take(chosen, token=batch.token, hold_seconds=lease().total_seconds())
    for want, slot in given.items():
        batch.slots[slot.member] = slot
        batch.lane_slot[(want.endpoint_id, want.subject)] = slot.member
    # Lanes refused a slot wait for one to be given back; those left out, for a next task.
    batch.more_due = left and len(given) == len(chosen)
    ids = [pk for want in given for pk in lanes[want]]
    if not ids:
        return
    WebhookDelivery.objects.filter(due(now), pk__in=ids).update(
        claimed_until=now + lease(), claimed_by=batch.token
    )
    rows = WebhookDelivery.objects.select_related("endpoint__partner", "event")
    claimed = rows.filter(pk__in=ids, claimed_by=batch.token).order_by("created_at")
    batch.deliveries = {d.pk: d for d in claimed}


def batch_end(batch: Batch, members: list[str] | None = None) -> bool:
    """Give back these slots (None: all the batch still holds), and its places for endpoints
    it no longer sends to; True if someone waited for them."""
    members = list(batch.slots) if members is None else members
    waited = False
    for member in members:
        slot = batch.slots.pop(member, None)
        waited = (slot is not None and slot_give_back(slot)) or waited
    sending = {slot.endpoint_id for slot in list(batch.slots.values())}
    done, slow_done = batch.endpoints - sending, batch.slow_place and not batch.slow & sending
    if done or slow_done:
        batch.endpoints -= done
        batch.slow_place = batch.slow_place and not slow_done
        waited = places.leave(done, slow=slow_done) or waited
    return waited


def subject_of(connection_id: str | None, link_session_id: str | None, pk: str) -> str:
    return connection_id or link_session_id or pk


def _candidate_lanes(first: str, now: datetime) -> OrderedDict[Want, list[str]]:
    """Due deliveries by lane, ``first``'s lane first, then by their oldest (but those of
    endpoints and partners over budget: a give-back sends a task for them)."""
    free = WebhookDelivery.objects.filter(due(now))
    named = list(free.filter(pk=first).values_list(*COLUMNS)) if first else []
    endpoints, partners = over_budget()
    if named and (str(named[0][1]) in endpoints or str(named[0][2]) in partners):
        return OrderedDict()  # its endpoint waits for a slot: the give-back sends a task
    others = free.exclude(endpoint_id__in=endpoints).exclude(endpoint__partner_id__in=partners)
    oldest = others.order_by("next_attempt_at", "created_at").values_list(*COLUMNS)
    lanes: OrderedDict[Want, list[str]] = OrderedDict()
    for pk, endpoint, partner, connection, session in chain(named, oldest[:CANDIDATES]):
        want = Want(str(endpoint), str(partner), subject_of(connection, session, pk))
        lane = lanes.setdefault(want, [])
        if pk not in lane:
            lane.append(pk)
    return lanes


def _within_places(batch: Batch, wants: list[Want]) -> list[Want]:
    """The lanes this batch may send, by the process's places (``Places``)."""
    endpoints = {want.endpoint_id for want in wants}
    slow = slow_endpoints(endpoints)
    batch.endpoints, batch.slow_place = places.enter(endpoints, slow)
    batch.slow = slow & batch.endpoints
    return [want for want in wants if want.endpoint_id in batch.endpoints]


def _round_robin(wants: list[Want]) -> list[Want]:
    """Lanes endpoint by endpoint in turn (each endpoint's in their order), so one endpoint's
    backlog does not fill a batch before another's first lane."""
    by_endpoint: OrderedDict[str, list[Want]] = OrderedDict()
    for want in wants:
        by_endpoint.setdefault(want.endpoint_id, []).append(want)
    turns = zip_longest(*by_endpoint.values())
    return [want for turn in turns for want in turn if want is not None]


def _fill(wants: list[Want], lanes: OrderedDict[Want, list[str]]) -> tuple[list[Want], bool]:
    """The lanes that fit in a batch (at least the first), and whether any were left."""
    chosen, count = [], 0
    for want in wants:
        if chosen and count + len(lanes[want]) > BATCH:
            return chosen, True
        chosen.append(want)
        count += len(lanes[want])
    return chosen, False
