"""Onramp's two OAuth pages outside the flow's URLs: the start URL every sign-in opens first,
and the one redirect URI (``/oauth/callback/``) shared by every partner's app.

The start URL (``/oauth/start/<sign-in>/<token>/``, single use, minutes long) gives the
browser that opens it a first-party, ``SameSite=Lax``, HttpOnly cookie and sends it to the
provider's consent page; the callback accepts the ``state`` only with that cookie. Neither
carries a link token: the sign-in (and its session) is found server-side. In a popup the
callback says how it went and closes itself (the iframe learns the rest by polling); after a
full redirect (hosted links) it sends the user back to the flow.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from catalog.registry import get_definition
from connections.flow.steps.oauth import outcome_message, sign_in_check
from connections.http.clientip import client_ip
from connections.languages import browser_language, language_of
from connections.models import SignIn, SignInOutcome
from connections.services.oauth import (
    SIGN_IN_LIFETIME,
    browser_cookie,
    sign_in_finish,
    sign_in_open,
    sign_in_return_url,
)


@require_GET
def oauth_start(request: HttpRequest, sign_in_id: str, start_token: str) -> HttpResponse:
    opened = sign_in_open(sign_in_id=sign_in_id[:40], start_token=start_token[:80])
    if opened is None:
        with translation.override(browser_language(request)):
            return _page(request, status=400, context={"unknown": True})
    response = HttpResponseRedirect(opened.consent_url)
    response.set_cookie(
        browser_cookie(sign_in_id),
        opened.browser_secret,
        max_age=int(SIGN_IN_LIFETIME.total_seconds()),
        path="/oauth/",
        secure=settings.ONRAMP_PUBLIC_URL.startswith("https://"),
        httponly=True,
        samesite="Lax",  # sent on the provider's top-level redirect back, never cross-site
    )
    return _private(response)


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")[:200]
    params = {key: value[:2000] for key, value in request.GET.items() if key != "state"}
    result = sign_in_finish(state=state, params=params, cookies=request.COOKIES) if state else None
    if result is None:
        with translation.override(browser_language(request)):
            return _page(request, status=400, context={"unknown": True})
    sign_in = sign_in_check(result, client_ip=client_ip(request))
    session = sign_in.link_session
    with translation.override(language_of(session.locale)):
        if sign_in.in_popup or sign_in.outcome == SignInOutcome.OTHER_BROWSER:
            response = _page(request, status=200, context=_outcome(sign_in))
        else:  # never for another browser: the flow's URL holds its link token
            response = HttpResponseRedirect(sign_in_return_url(sign_in))
    response.delete_cookie(browser_cookie(sign_in.pk), path="/oauth/")
    return _private(response)


def _outcome(sign_in: SignIn) -> dict:
    system = get_definition(sign_in.system_slug).name
    return {
        "signed_in": sign_in.outcome == SignInOutcome.CHECKING,
        "system": system,
        "message": outcome_message(sign_in, system, sign_in.link_session.partner.shown_name),
    }


def _page(request: HttpRequest, *, status: int, context: dict) -> HttpResponse:
    return _private(render(request, "connect/oauth_done.html", context, status=status))


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"  # the URLs carry a code, a state or a token
    response["Cache-Control"] = "no-store"
    return response
