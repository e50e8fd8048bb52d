"""Every answer names its request (``X-Request-Id``), API answers say where their time went
(``Server-Timing``), and log lines written during a request carry its id."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.http import HttpResponse
from django.test import Client

from connections.http.request_ids import RequestIdFilter, RequestIdMiddleware
from tests.conftest import error_of

pytestmark = pytest.mark.django_db


def test_an_api_answer_names_its_request_and_its_time(api):
    answer = api.get("/api/v1/connections")
    assert answer.status_code == 200
    assert re.fullmatch(r"req_[0-9a-f]{24}", answer["X-Request-Id"])
    timing = dict(part.strip().split(";dur=") for part in answer["Server-Timing"].split(","))
    assert set(timing) == {"db", "app"} and 0 < float(timing["db"]) <= float(timing["app"])
    assert api.get("/api/v1/connections")["X-Request-Id"] != answer["X-Request-Id"]


def test_the_callers_own_id_is_kept_and_a_bad_one_replaced(api):
    mine = api.get("/api/v1/connections", headers={"X-Request-Id": "acme-7f3a:retry.2"})
    assert mine["X-Request-Id"] == "acme-7f3a:retry.2"
    for bad in ("has space", "x" * 129, "new\nline", "<script>"):
        answer = api.get("/api/v1/connections", headers={"X-Request-Id": bad})
        assert answer["X-Request-Id"].startswith("req_")


def test_errors_and_flow_screens_carry_it_too(db):
    refused = Client().get("/api/v1/connections")  # no key
    assert error_of(refused) and refused["X-Request-Id"].startswith("req_")
    assert "Server-Timing" in refused
    screen = Client().get("/connect/onr_lt_nonsense/")
    assert screen["X-Request-Id"].startswith("req_") and "Server-Timing" not in screen


def test_log_lines_written_during_a_request_carry_its_id(rf):
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("[%(request_id)s] %(message)s"))
    logger = logging.getLogger("onramp.test.request_ids")
    logger.addHandler(handler)
    try:

        def view(request):
            logger.warning("inside")
            return HttpResponse()

        answer = RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="trace-1"))
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    assert answer["X-Request-Id"] == "trace-1"
    assert written.getvalue().splitlines() == ["[trace-1] inside", "[-] outside"]
