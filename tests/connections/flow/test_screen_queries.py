"""What each flow screen costs the database (issue 17): at most 4 queries, and a write only
when the visit is new to the session (a milestone reached, another screen to resume at, the
language fixed), batched into one UPDATE. Measured as the end user meets each screen, in a
process that has served the flow before (its catalog index built)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from connections.models import ValidationAttempt
from tests.factories import link_session, practice_sign_in

pytestmark = pytest.mark.django_db
MAX_QUERIES = 4


@pytest.fixture
def warm(acme) -> None:
    """A walk through the screens by someone else first: the index and templates are warm.
    The partner has registered the Sandbox's practice sign-in: it has two methods to show."""
    practice_sign_in(acme.partner)
    _, token = link_session(acme.partner)
    for path in ("", "s/sandbox-erp/", "s/infoplus/api_key/", "s/infoplus/api_key/details/"):
        assert Client().get(f"/connect/{token}/{path}").status_code == 200


@pytest.fixture
def visit(warm, acme):
    """A new end user's browser on their own link: ``visit(path)`` → (response, queries)."""
    session, token = link_session(acme.partner)
    client, base = Client(), f"/connect/{token}/"

    def get(path: str = "") -> tuple:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(base + path)
        return response, [query["sql"] for query in queries.captured_queries]

    get.base, get.session = base, session
    return get


def writes(queries: list[str]) -> list[str]:
    return [sql for sql in queries if sql.split(None, 1)[0] in ("INSERT", "UPDATE", "DELETE")]


@pytest.mark.parametrize(
    ("screen", "path", "shows"),
    [
        ("choose, back at the list", "systems/", "Which system do you use?"),
        ("system (its methods)", "s/sandbox-erp/", "Username and password"),
        ("prepare (the guide)", "s/infoplus/api_key/", "Create an API key"),
        ("details", "s/infoplus/api_key/details/", 'name="site"'),
    ],
)
def test_each_screen_makes_at_most_four_queries_and_one_write(visit, screen, path, shows):
    visit()  # the link opened: its language fixed, the funnel's first step recorded
    response, queries = visit(path)
    assert response.status_code == 200 and shows in response.content.decode()
    assert len(queries) <= MAX_QUERIES, (screen, queries)
    assert len(writes(queries)) <= 1, (screen, queries)


def test_the_first_screen_on_the_first_visit_too(visit):
    response, queries = visit()
    assert response.status_code == 200
    assert len(queries) <= MAX_QUERIES, queries
    assert len(writes(queries)) == 1  # language and "opened", together


@pytest.mark.parametrize(
    "path",
    ["", "systems/", "s/sandbox-erp/", "s/infoplus/api_key/", "s/infoplus/api_key/details/"],
)
def test_a_screen_seen_again_writes_nothing(visit, path):
    visit()
    visit(path)
    response, queries = visit(path)
    assert response.status_code in (200, 302)
    assert writes(queries) == [] and len(queries) <= MAX_QUERIES


@pytest.mark.parametrize("htmx", [False, True])
def test_the_progress_screen_and_its_poll(visit, htmx):
    visit()
    attempt = ValidationAttempt.objects.create(
        link_session=visit.session, system_slug="infoplus", method="api_key", status="running"
    )
    path = f"attempts/{attempt.id}/" + ("?poll=1" if htmx else "")
    response, queries = visit(path)
    assert response.status_code == 200
    assert len(queries) <= MAX_QUERIES and writes(queries) == [], queries


def test_the_done_screen_after_a_real_check(
    visit, fake_systems, django_capture_on_commit_callbacks
):
    fake_systems.infoplus.sites["acme"] = {"key-1"}
    visit()
    with django_capture_on_commit_callbacks(execute=True):  # the check runs inline
        Client().post(
            visit.base + "s/infoplus/api_key/details/", {"site": "acme", "api_key": "key-1"}
        )
    for _ in range(2):  # the first visit, and coming back to it
        response, queries = visit("done/")
        assert response.status_code == 200 and "Infoplus is connected" in response.content.decode()
        assert len(queries) <= MAX_QUERIES and writes(queries) == [], queries
