"""A hanging customer system cannot starve everyone else (issue 16 #8): on gunicorn as
deployed (threaded workers), calls in flight are capped per connection (429) and per host
(503), and the flow, the API and other connections answer while the hanging calls wait."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.factories import connected, link_session
from tests.fakes.base import Trick

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
INFOPLUS = "infoplus-wms/api/v3.0/lineOfBusiness/search"
STALL = 40.0  # how long the hanging system takes; everything else must answer well before


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_hanging_system_holds_few_threads_and_the_rest_answers(
    stack, acme, fake_systems, onramp_server
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    _, hanging_token = connected(acme.partner)
    _, other_token = connected(
        acme.partner,
        end_user_id="user-2",
        system="sandbox-erp",
        config={"company": "demo", "username": "demo"},
        credentials={"password": "sandbox-demo"},
    )
    _, link_token = link_session(acme.partner)
    fake_systems.infoplus.tricks.extend(Trick("stall", seconds=STALL) for _ in range(6))
    web = stack.gunicorn(
        ONRAMP_TEST_READ_TIMEOUT="60",
        ONRAMP_TEST_DEADLINE="60",
        ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION="2",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="4",
    )
    answers: list[int] = []

    def hang() -> None:
        url = f"{web}/api/v1/proxy/{INFOPLUS}"
        answers.append(requests.get(url, headers=bearer(hanging_token), timeout=120).status_code)

    callers = [threading.Thread(target=hang) for _ in range(4)]
    for caller in callers:
        caller.start()
    for _ in range(600):  # both slots taken, the two over the cap refused
        if answers.count(429) == 2 and len(fake_systems.infoplus.requests) >= 2:
            break
        threading.Event().wait(0.1)
    assert answers.count(429) == 2 and len(fake_systems.infoplus.requests) == 2

    flow = requests.get(f"{web}/connect/{link_token}/", timeout=30)
    assert flow.status_code == 200 and "Which system do you use?" in flow.text
    api = requests.get(f"{web}/api/v1/connections", headers=bearer(acme.secret), timeout=30)
    other = requests.get(
        f"{web}/api/v1/proxy/v1/orders?limit=1", headers=bearer(other_token), timeout=30
    )
    assert api.status_code == 200 and other.status_code == 200
    assert len(answers) == 2  # ... all while the two calls in flight still wait
    for caller in callers:
        caller.join(timeout=120)
    assert sorted(answers) == [200, 200, 429, 429]
