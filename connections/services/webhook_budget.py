"""Who may send to an endpoint now: send budgets per endpoint and per partner, shared by every
worker through Redis, and which endpoints are slow.

A *slot* is one send at a time to an endpoint. An endpoint has
``ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT`` slots and a partner ``ONRAMP_WEBHOOK_SENDS_PER_PARTNER``
over all its endpoints, across every worker. Before it claims any row a batch takes slots for
the lanes it means to send (a lane: the deliveries of one subject to one endpoint, sent one
after another): a new slot per lane while the budgets allow, then up to ``PER_SLOT`` lanes
through each slot it took, one after another; a lane beyond that is not claimed at all (its
rows stay due), so a slow endpoint's backlog never sits in a batch. It also reserves each
lane's subject, so two batches never send one subject's deliveries to one endpoint at once
(their order holds across batches as within one). Slots and subjects are members of sorted
sets scored by when they lapse (a lease later): a killed worker's are reclaimed by the next
take, so a budget cannot leak for longer than a lease.

A lane refused a slot puts its endpoint (or partner) in the set of those *over budget*;
whoever gives a slot of that endpoint or partner back takes it out, learns that someone
waited, and sends a task for the waiting deliveries. Meanwhile claims pass over the
deliveries of endpoints and partners over budget (but the one their task names), so a slow
endpoint's backlog never hides another endpoint's deliveries from a batch (round-robin
between endpoints comes from the claim: it takes lanes endpoint by endpoint in turn). Should
Redis not answer, each process keeps the same budgets in its own memory until it does (the
caps then hold per process).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches

from config.cache import CacheUnavailable, SharedRedisCache

PER_SLOT = 8  # lanes a batch may send one after another through one slot


@dataclass(frozen=True)
class Want:
    """A lane a batch would send: its endpoint, its endpoint's partner, its subject."""

    endpoint_id: str
    partner_id: str
    subject: str


@dataclass
class Slot:
    """One send at a time to an endpoint, held by a batch: in Redis (``shared``) or, during
    an outage, in this process. It carries the lanes (subjects) given to it, one after
    another."""

    endpoint_id: str
    partner_id: str
    member: str
    shared: bool
    subjects: list[str] = field(default_factory=list)


def slots_take(wants: list[Want], *, token: str, hold_seconds: float) -> dict[Want, Slot]:
    """The slot each lane is sent through, for those within their endpoint's and partner's
    budgets (in the given order, which the caller makes round-robin): a new slot while the
    budgets allow, else one the batch took already for that endpoint (up to ``PER_SLOT``
    lanes each), else none (the endpoint or partner is then marked over budget). A subject
    another batch is sending to the endpoint gets none either."""
    caps = (settings.ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT, settings.ONRAMP_WEBHOOK_SENDS_PER_PARTNER)
    if not wants:
        return {}
    try:
        indices, shared = _shared_take(wants, caps, token, hold_seconds), True
    except (CacheUnavailable, _NoRedis):
        indices, shared = LOCAL.take(wants, caps, token), False
    slots: dict[tuple[str, int], Slot] = {}
    given: dict[Want, Slot] = {}
    for want, index in zip(wants, indices, strict=True):
        if index:
            member = f"{token}:{want.endpoint_id}:{index}"
            slot = slots.setdefault(
                (want.endpoint_id, index), Slot(want.endpoint_id, want.partner_id, member, shared)
            )
            slot.subjects.append(want.subject)
            given[want] = slot
    return given


def slot_give_back(slot: Slot) -> bool:
    """Give the slot and its subjects back; True if a lane of its endpoint or partner was
    refused one meanwhile (then send a task for it). What Redis cannot take back lapses."""
    if not slot.shared:
        return LOCAL.give_back(slot)
    try:
        return _shared_give_back(slot)
    except (CacheUnavailable, _NoRedis):
        return True  # unknown: a task too many costs one empty claim


# KEYS: the endpoints and the partners over budget (sorted sets, scored by when the mark lapses:
# a holder that died never gives back, so a mark lasts a lease after its last refusal), then
# per lane its endpoint's slots, its partner's, and its endpoint's subjects being sent. ARGV:
# now, lapse time, endpoint cap, partner cap, ttl, lanes per slot, the batch's token, then per
# lane its endpoint, partner and subject. Returns per lane its slot's number (0: none).
TAKE = """
local now, lapse = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap_e, cap_p, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local per_slot, token = tonumber(ARGV[6]), ARGV[7]
local granted, lanes, result = {}, {}, {}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, (#KEYS - 2) / 3 do
  local e, p, s = KEYS[3*i], KEYS[3*i+1], KEYS[3*i+2]
  local endpoint, partner, subject = ARGV[3*i+5], ARGV[3*i+6], ARGV[3*i+7]
  if not granted[endpoint] then
    granted[endpoint], lanes[endpoint] = 0, 0
    redis.call('ZREMRANGEBYSCORE', e, '-inf', now)
    redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
  end
  redis.call('ZREMRANGEBYSCORE', p, '-inf', now)
  local g, slot = granted[endpoint], 0
  if redis.call('ZSCORE', s, subject) then
    redis.call('ZADD', KEYS[1], now + ttl, endpoint)
  elseif redis.call('ZCARD', e) < cap_e and redis.call('ZCARD', p) < cap_p then
    slot = g + 1
    granted[endpoint] = slot
    local member = token .. ':' .. endpoint .. ':' .. slot
    redis.call('ZADD', e, lapse, member)
    redis.call('ZADD', p, lapse, member)
  elseif g > 0 and lanes[endpoint] < g * per_slot then
    slot = (lanes[endpoint] % g) + 1
  elseif redis.call('ZCARD', e) >= cap_e then
    redis.call('ZADD', KEYS[1], now + ttl, endpoint)
  else
    redis.call('ZADD', KEYS[2], now + ttl, partner)
  end
  if slot > 0 then
    lanes[endpoint] = lanes[endpoint] + 1
    redis.call('ZADD', s, lapse, subject)
  end
  result[i] = slot
  for _, key in ipairs({e, p, s, KEYS[1], KEYS[2]}) do redis.call('EXPIRE', key, ttl) end
end
return result
"""

# KEYS: the over-budget sets, the slot's endpoint's slots, its partner's, its endpoint's
# subjects. ARGV: the slot's member, endpoint, partner, then its subjects.
GIVE_BACK = """
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
for i = 4, #ARGV do redis.call('ZREM', KEYS[5], ARGV[i]) end
return redis.call('ZREM', KEYS[1], ARGV[2]) + redis.call('ZREM', KEYS[2], ARGV[3])
"""


def _shared_take(
    wants: list[Want], caps: tuple[int, int], token: str, hold_seconds: float
) -> list[int]:
    now = time.time()
    ttl = int(hold_seconds) + 1
    args = [now, now + hold_seconds, *caps, ttl, PER_SLOT, token]
    args += [arg for w in wants for arg in (w.endpoint_id, w.partner_id, w.subject)]
    names = [name for w in wants for name in _lane_names(w)]
    return [int(slot) for slot in _eval(TAKE, names, args)]


def _shared_give_back(slot: Slot) -> bool:
    want = Want(slot.endpoint_id, slot.partner_id, "")
    args = [slot.member, slot.endpoint_id, slot.partner_id, *slot.subjects]
    return bool(_eval(GIVE_BACK, _lane_names(want), args))


def _lane_names(want: Want) -> list[str]:
    endpoint = want.endpoint_id
    return [_name("e", endpoint), _name("p", want.partner_id), _name("s", endpoint)]


def _eval(source: str, names: list[str], args: list[Any]) -> Any:
    backend = _redis()
    names = [OVER_ENDPOINTS, OVER_PARTNERS, *names]
    keys = [backend.make_and_validate_key(name) for name in names]

    def run(client: Any, _key: str) -> Any:
        return client.eval(source, len(keys), *keys, *args)

    return backend.run(OVER_ENDPOINTS, run)


def over_budget() -> tuple[set[str], set[str]]:
    """The endpoints and the partners a lane was refused a slot for since their last slot
    was given back: a claim leaves their deliveries to the task a give-back sends."""
    try:
        backend = _redis()
        keys = [backend.make_and_validate_key(n) for n in (OVER_ENDPOINTS, OVER_PARTNERS)]

        def read(client: Any, _key: str) -> Any:
            return [client.zrangebyscore(key, time.time(), "+inf") for key in keys]

        endpoints, partners = backend.run(OVER_ENDPOINTS, read)
    except (CacheUnavailable, _NoRedis):
        return LOCAL.over()
    return {e.decode() for e in endpoints}, {p.decode() for p in partners}


OVER_ENDPOINTS = "onramp:webhooks:over:endpoints"
OVER_PARTNERS = "onramp:webhooks:over:partners"


def _name(kind: str, owner: str) -> str:
    return f"onramp:webhooks:sending:{kind}:{owner}"


class _NoRedis(Exception):
    """The cache is not Redis (the embedded default: one process, tasks inline)."""


def _redis() -> SharedRedisCache:
    backend = caches["default"]
    if not isinstance(backend, SharedRedisCache):
        raise _NoRedis
    return backend


class LocalSlots:
    """The same budgets in this process's memory (no Redis, or Redis out)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoint: dict[str, set[str]] = {}  # slot members
        self._partner: dict[str, set[str]] = {}
        self._subjects: dict[str, set[str]] = {}
        self._over: set[str] = set()  # endpoints and partners over budget

    def take(self, wants: list[Want], caps: tuple[int, int], token: str) -> list[int]:
        granted: dict[str, int] = {}
        lanes: dict[str, int] = {}
        with self._lock:
            return [self._take_one(want, caps, token, granted, lanes) for want in wants]

    def _take_one(self, want: Want, caps, token, granted, lanes) -> int:  # noqa: ANN001
        endpoint, partner = want.endpoint_id, want.partner_id
        mine = self._endpoint.setdefault(endpoint, set())
        theirs = self._partner.setdefault(partner, set())
        subjects = self._subjects.setdefault(endpoint, set())
        given, sent = granted.get(endpoint, 0), lanes.get(endpoint, 0)
        slot = 0
        if want.subject in subjects:
            self._over.add(endpoint)
        elif len(mine) < caps[0] and len(theirs) < caps[1]:
            slot = granted[endpoint] = given + 1
            mine.add(f"{token}:{endpoint}:{slot}")
            theirs.add(f"{token}:{endpoint}:{slot}")
        elif given and sent < given * PER_SLOT:
            slot = sent % given + 1
        else:
            self._over.add(endpoint if len(mine) >= caps[0] else partner)
        if slot:
            lanes[endpoint] = sent + 1
            subjects.add(want.subject)
        return slot

    def over(self) -> tuple[set[str], set[str]]:
        with self._lock:
            return set(self._over), set(self._over)

    def give_back(self, slot: Slot) -> bool:
        with self._lock:
            self._endpoint.get(slot.endpoint_id, set()).discard(slot.member)
            self._partner.get(slot.partner_id, set()).discard(slot.member)
            self._subjects.get(slot.endpoint_id, set()).difference_update(slot.subjects)
            waited = bool({slot.endpoint_id, slot.partner_id} & self._over)
            self._over -= {slot.endpoint_id, slot.partner_id}
            return waited


LOCAL = LocalSlots()
