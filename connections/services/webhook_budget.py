"""Who may send to an endpoint now: send budgets per endpoint and per partner, shared by every
worker through Redis, and which endpoints are slow.

A batch takes a *slot* for each lane it means to send (the deliveries of one subject to one
endpoint, sent one after another) before it claims the lane's rows, and gives it back when
the lane ends. An endpoint has ``ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT`` slots and a partner
``ONRAMP_WEBHOOK_SENDS_PER_PARTNER`` over all its endpoints, across every worker; a lane over
either budget is not claimed at all (its rows stay due, for later), so a slow endpoint's
backlog never sits in a batch nor holds a Celery thread. A slot is a member of a sorted set
scored by when it lapses (a lease later): a killed worker's slots are reclaimed by the next
take, so a budget cannot leak for longer than a lease. The member is the lane's subject, so
two batches never send one subject's deliveries to one endpoint at once (their order holds
across batches as within one).

A lane refused a slot puts its endpoint (or partner) in the set of those *over budget*;
whoever gives a slot of that endpoint or partner back takes it out, learns that someone
waited, and sends a task for the waiting deliveries. Meanwhile claims pass over the
deliveries of endpoints and partners over budget (but the one their task names), so a slow
endpoint's backlog never hides another endpoint's deliveries from a batch (round-robin
between endpoints comes from the claim: it takes lanes endpoint by endpoint in turn). Should
Redis not answer, each process keeps the same budgets in its own memory until it does (the
caps then hold per process).

A batch holds its Celery thread until its slowest send ends, so a worker process also caps
its batches (``Places``): at most ``ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT`` send to one endpoint
at once, and at most ``ONRAMP_WEBHOOK_SLOW_BATCHES`` to endpoints marked *slow* (the last send
took ``ONRAMP_WEBHOOK_SLOW_AFTER`` seconds or more, or is still running after that long; the
mark lasts ``SLOW_FOR`` seconds). Slow receivers never occupy all of a worker's threads: the
others stay free for everyone else's deliveries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches

from config.cache import CacheUnavailable, SharedRedisCache

SLOW_FOR = 60  # seconds an endpoint stays marked slow after its last slow send


@dataclass(frozen=True)
class Want:
    """A lane a batch would send: its endpoint, its endpoint's partner, its subject."""

    endpoint_id: str
    partner_id: str
    subject: str

    @property
    def member(self) -> str:
        return f"{self.endpoint_id}:{self.subject}"


@dataclass(frozen=True)
class Slot:
    """A lane's slot, taken in Redis (``shared``) or, during an outage, in this process."""

    want: Want
    shared: bool


def slots_take(wants: list[Want], *, hold_seconds: float) -> list[Slot]:
    """A slot for each lane within its endpoint's and partner's budgets (in the given order,
    which the caller makes round-robin), none for the others (their endpoints and partners
    are marked as waited on)."""
    caps = (settings.ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT, settings.ONRAMP_WEBHOOK_SENDS_PER_PARTNER)
    if not wants:
        return []
    try:
        taken = _shared_take(wants, caps, hold_seconds)
    except (CacheUnavailable, _NoRedis):
        return [Slot(want, shared=False) for want in LOCAL.take(wants, caps)]
    return [Slot(want, shared=True) for want, ok in zip(wants, taken, strict=True) if ok]


def slots_give_back(slots: Iterable[Slot]) -> bool:
    """Give the slots back; True if a lane of their endpoints or partners waited for one
    meanwhile (then send a task for it). A slot Redis cannot take back lapses on its own."""
    slots = list(slots)
    waited = LOCAL.give_back([s.want for s in slots if not s.shared])
    shared = [s.want for s in slots if s.shared]
    if shared:
        try:
            waited = _shared_give_back(shared) or waited
        except (CacheUnavailable, _NoRedis):
            waited = True  # unknown: a task too many costs one empty claim
    return waited


# KEYS: the endpoints and the partners over budget (sorted sets, scored by when the mark lapses:
# a holder that died never gives back, so a mark lasts a lease after its last refusal), then
# per lane its endpoint's slots
# and its partner's. ARGV: now, lapse time, endpoint cap, partner cap, ttl, then per lane its
# member, endpoint and partner.
TAKE = """
local now, lapse = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap_e, cap_p, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local taken = {}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, (#KEYS - 2) / 2 do
  local e, p = KEYS[2*i+1], KEYS[2*i+2]
  local member, endpoint, partner = ARGV[3*i+3], ARGV[3*i+4], ARGV[3*i+5]
  redis.call('ZREMRANGEBYSCORE', e, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', p, '-inf', now)
  taken[i] = 0
  if redis.call('ZSCORE', e, member) or redis.call('ZCARD', e) >= cap_e then
    redis.call('ZADD', KEYS[1], now + ttl, endpoint)
    redis.call('EXPIRE', KEYS[1], ttl)
  elseif redis.call('ZCARD', p) >= cap_p then
    redis.call('ZADD', KEYS[2], now + ttl, partner)
    redis.call('EXPIRE', KEYS[2], ttl)
  else
    redis.call('ZADD', e, lapse, member)
    redis.call('ZADD', p, lapse, member)
    redis.call('EXPIRE', e, ttl)
    redis.call('EXPIRE', p, ttl)
    taken[i] = 1
  end
end
return taken
"""

GIVE_BACK = """
local waited = 0
for i = 1, (#KEYS - 2) / 2 do
  local member, endpoint, partner = ARGV[3*i-2], ARGV[3*i-1], ARGV[3*i]
  redis.call('ZREM', KEYS[2*i+1], member)
  redis.call('ZREM', KEYS[2*i+2], member)
  waited = waited + redis.call('ZREM', KEYS[1], endpoint) + redis.call('ZREM', KEYS[2], partner)
end
return waited
"""


def _shared_take(wants: list[Want], caps: tuple[int, int], hold_seconds: float) -> list[bool]:
    now = time.time()
    ttl = int(hold_seconds) + 1
    args = [now, now + hold_seconds, *caps, ttl, *_lane_args(wants)]
    taken = _redis().run(OVER_ENDPOINTS, _script(TAKE, wants, args))
    return [bool(flag) for flag in taken]


def _shared_give_back(wants: list[Want]) -> bool:
    return bool(_redis().run(OVER_ENDPOINTS, _script(GIVE_BACK, wants, _lane_args(wants))))


def _lane_args(wants: list[Want]) -> list[str]:
    return [arg for w in wants for arg in (w.member, w.endpoint_id, w.partner_id)]


def _script(source: str, wants: list[Want], args: list[Any]) -> Any:
    backend = _redis()
    names = [OVER_ENDPOINTS, OVER_PARTNERS, *(_name(w, kind) for w in wants for kind in "ep")]
    keys = [backend.make_and_validate_key(name) for name in names]

    def run(client: Any, _key: str) -> Any:
        return client.eval(source, len(keys), *keys, *args)

    return run


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


def _name(want: Want, kind: str) -> str:
    owner = want.partner_id if kind == "p" else want.endpoint_id
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
        self._endpoint: dict[str, set[str]] = {}
        self._partner: dict[str, set[str]] = {}
        self._waiting: set[str] = set()  # endpoints and partners over budget

    def take(self, wants: list[Want], caps: tuple[int, int]) -> list[Want]:
        with self._lock:
            return [want for want in wants if self._take_one(want, caps)]

    def _take_one(self, want: Want, caps: tuple[int, int]) -> bool:
        mine = self._endpoint.setdefault(want.endpoint_id, set())
        partners = self._partner.setdefault(want.partner_id, set())
        if want.member in mine or len(mine) >= caps[0]:
            self._waiting.add(want.endpoint_id)
            return False
        if len(partners) >= caps[1]:
            self._waiting.add(want.partner_id)
            return False
        mine.add(want.member)
        partners.add(want.member)
        return True

    def over(self) -> tuple[set[str], set[str]]:
        with self._lock:
            return set(self._waiting), set(self._waiting)

    def give_back(self, wants: list[Want]) -> bool:
        waited = False
        with self._lock:
            for want in wants:
                self._endpoint.get(want.endpoint_id, set()).discard(want.member)
                self._partner.get(want.partner_id, set()).discard(want.member)
                for owner in (want.endpoint_id, want.partner_id):
                    if owner in self._waiting:
                        self._waiting.discard(owner)
                        waited = True
        return waited


LOCAL = LocalSlots()


def slow_endpoints(endpoint_ids: Iterable[str]) -> set[str]:
    """Which of these endpoints are marked slow (the cache falls back to this process's
    memory while Redis is out)."""
    keys = {_slow_key(pk): pk for pk in set(endpoint_ids)}
    return {keys[key] for key in cache.get_many(list(keys))}


def slowness_note(durations: dict[str, float]) -> None:
    """Mark each endpoint slow or not by its latest send's seconds."""
    slow_after = settings.ONRAMP_WEBHOOK_SLOW_AFTER
    slow = {_slow_key(pk): 1 for pk, seconds in durations.items() if seconds >= slow_after}
    fast = [_slow_key(pk) for pk, seconds in durations.items() if seconds < slow_after]
    if slow:
        cache.set_many(slow, timeout=SLOW_FOR)
    if fast:
        cache.delete_many(fast)


def _slow_key(endpoint_id: str) -> str:
    return f"onramp:webhooks:slow:{endpoint_id}"


class Places:
    """Which endpoints this process's batches send to: at most
    ``ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT`` batches to one endpoint, and at most
    ``ONRAMP_WEBHOOK_SLOW_BATCHES`` batches to slow ones at once. A batch holds its Celery
    thread until its slowest send ends, so this bounds the threads one receiver can hold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: dict[str, int] = {}
        self._slow = 0
        self._turned_away = False

    def enter(self, endpoints: set[str], slow: set[str]) -> tuple[set[str], bool]:
        """The endpoints a new batch may send to, and whether it took a slow batch's place;
        any other is turned away (noted, for ``leave``)."""
        cap = settings.ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT
        with self._lock:
            allowed = {e for e in endpoints if self._batches.get(e, 0) < cap}
            took_slow = bool(allowed & slow) and self._slow < settings.ONRAMP_WEBHOOK_SLOW_BATCHES
            if took_slow:
                self._slow += 1
            else:
                allowed -= slow
            self._turned_away = self._turned_away or allowed != endpoints
            for endpoint in allowed:
                self._batches[endpoint] = self._batches.get(endpoint, 0) + 1
            return allowed, took_slow

    def leave(self, endpoints: set[str], *, slow: bool) -> bool:
        """True if a batch was turned away meanwhile (send a task for what it left)."""
        with self._lock:
            for endpoint in endpoints:
                left = self._batches.pop(endpoint, 1) - 1
                if left > 0:
                    self._batches[endpoint] = left
            self._slow -= 1 if slow else 0
            turned_away, self._turned_away = self._turned_away, False
            return turned_away


places = Places()
