"""Answers that belong to no app."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_favicon_answers_with_onramps_mark():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") and "max-age" in response["Cache-Control"]


def test_pages_name_their_icon(end_user):
    assert 'rel="icon" href="/static/favicon.svg"' in end_user().get().content.decode()
