"""HTTP Basic (``schemes/basic.py``): a username and password, or one API key used alone —
EasyPost's key as the username with an empty password, checked against a simulator that
refuses anything after the colon; the key base64-encoded on its own (no colon)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from catalog.schema import FieldSpec, MethodSpec
from connections.schemes import SCHEMES
from connections.schemes.base import Target
from tests.factories import live_check
from tests.fakes.vendors_options import FakeEasyPost

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def running() -> Iterator[FakeEasyPost]:
    fake = FakeEasyPost().start()
    yield fake
    fake.stop()


@pytest.fixture
def easypost(running, settings) -> FakeEasyPost:
    running.reset()
    settings.ONRAMP_OUTBOUND_HOST_MAP = ",".join(f"{h}={running.url}" for h in running.hosts)
    running.keys.add("EZAKlive123")
    return running


@pytest.mark.parametrize(
    ("key", "code"), [("EZAKlive123", None), ("EZAKother", "invalid_credentials")]
)
def test_easypost_takes_the_key_as_the_username_with_no_password(easypost, key, code):
    outcome = live_check("easypost", "api_key", {}, {"api_key": key})
    assert (outcome.code if outcome else None) == code
    sent = easypost.requests[-1].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    if code is None:
        assert easypost.requests[-1].path == "/v2/addresses"


def _method(**options) -> MethodSpec:
    fields = (FieldSpec(name="api_key", label="Key", secret=True),)
    return MethodSpec(id="m", scheme="basic", label="m", options=options, fields=fields)


def _header(method: MethodSpec, credentials: dict[str, str]) -> str:
    target = Target(system=None, method=method, base_url="https://x.example", config={})
    authorizer = SCHEMES["basic"].authenticate(target, credentials, send=None)
    return authorizer.headers_for("GET", "https://x.example/")["Authorization"]


def test_a_key_alone_is_base64_encoded_without_a_colon():
    header = _header(_method(credentials="key_alone"), {"api_key": "k-123"})
    assert header == "Basic " + base64.b64encode(b"k-123").decode()


def test_by_default_basic_sends_the_username_and_password():
    method = MethodSpec(id="m", scheme="basic", label="m")
    assert _header(method, {"username": "u", "password": "p"}) == "Basic dTpw"


@pytest.mark.parametrize(
    ("method", "problem"),
    [
        (_method(credentials="key_twice"), "option 'credentials' must be one of"),
        (
            MethodSpec(id="m", scheme="basic", label="m", options={"credentials": "key_alone"}),
            "field 'api_key' is required",
        ),
        (_method(), "field 'username' is required"),
    ],
)
def test_a_layout_that_cannot_work_is_refused(method, problem):
    problems = SCHEMES["basic"].check_method(method)
    assert any(p.startswith(problem) for p in problems), problems
