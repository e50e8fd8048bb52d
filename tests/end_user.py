"""An end user in the flow, as tests drive it: a browser holding only the link's URL.

Tests get one from the ``end_user`` fixture (``tests/conftest.py``), which opens a new link.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpResponse
from django.test import Client

from connections.models import LinkSession

HTMX = {"HX-Request": "true"}


class EndUser:
    """An end user's browser in the flow, holding only the link's URL: the flow needs no
    cookies (an OAuth sign-in binds its browser with one, under /oauth/ only).

    Paths are the link's own (``"s/infoplus/"``), or absolute when they start with ``/``.
    """

    def __init__(self, session: LinkSession, token: str, capture: Callable[..., Any]) -> None:
        self.session, self.token = session, token
        self.base = f"/connect/{token}/"
        self.client = Client()
        self._capture = capture

    def get(self, path: str = "", *, htmx: bool = False, **kwargs: Any) -> HttpResponse:
        return self.client.get(self._url(path), **_htmx(htmx, kwargs))

    def post(
        self, path: str, data: Any = None, *, htmx: bool = False, **kwargs: Any
    ) -> HttpResponse:
        """Post; what it queues stays queued, as before a worker takes it."""
        return self.client.post(self._url(path), data, **_htmx(htmx, kwargs))

    def submit(self, path: str, data: Any, *, htmx: bool = False, **kwargs: Any) -> HttpResponse:
        """Post, then run what it queued (the live check) as a worker would."""
        with self._capture(execute=True):
            return self.post(path, data, htmx=htmx, **kwargs)

    def walk(self, path: str, data: dict[str, str]) -> list[str]:
        """Submit a form, follow where it leads, then open the form again: every page's HTML."""
        response = self.submit(path, data)
        pages = [response.content.decode()]
        for _ in range(3):
            if response.status_code not in (302, 303):
                break
            response = self.get(response["Location"])
            pages.append(response.content.decode())
        pages.append(self.get(path).content.decode())  # back to the form
        return pages

    def sign_in(self, system: str, **fields: str) -> HttpResponse:
        """Begin an OAuth sign-in (in a popup), then open its start URL in this browser: the
        answer sends it to the provider's consent page."""
        began = self.post(f"s/{system}/sign_in/sign-in/", {"in_popup": "1", **fields})
        if began.status_code != 302:
            return began
        return self.client.get(urlsplit(began["Location"]).path)

    def back_from_provider(self, redirect_url: str) -> HttpResponse:
        """The provider sends this browser back to the callback; the live check runs."""
        parts = urlsplit(redirect_url)
        with self._capture(execute=True):
            return self.client.get(f"{parts.path}?{parts.query}")

    def sign_in_status(self, system: str, closed: bool = False) -> HttpResponse:
        """What the flow's screen polls for while the sign-in window is open."""
        query = "?closed=1" if closed else ""
        return self.get(f"s/{system}/sign_in/sign-in/status/{query}", htmx=True)

    def _url(self, path: str) -> str:
        return path if path.startswith("/") else self.base + path


def _htmx(htmx: bool, kwargs: dict[str, Any]) -> dict[str, Any]:
    if htmx:
        kwargs["headers"] = HTMX | kwargs.get("headers", {})
    return kwargs
