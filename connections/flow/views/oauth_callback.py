"""Onramp's one OAuth redirect URI (``/oauth/callback/``), shared by every partner's app.

It carries no link token: the ``state`` finds the sign-in (and its session) server-side. In
a popup it says how it went and closes itself (the iframe learns the rest by polling); after
a full redirect (hosted links) it sends the user back to the flow.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from catalog.registry import get_definition
from connections.flow.steps.oauth import outcome_message, sign_in_check
from connections.http.clientip import client_ip
from connections.languages import language_of
from connections.models import SignInOutcome
from connections.services.oauth import sign_in_finish, sign_in_return_url


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")[:200]
    params = {key: value[:2000] for key, value in request.GET.items() if key != "state"}
    result = sign_in_finish(state=state, params=params) if state else None
    if result is None:
        return _page(request, status=400, context={"unknown": True})
    sign_in = sign_in_check(result, client_ip=client_ip(request))
    session = sign_in.link_session
    with translation.override(language_of(session.locale)):
        if not sign_in.in_popup:
            return HttpResponseRedirect(sign_in_return_url(sign_in))
        system = get_definition(sign_in.system_slug).name
        context = {
            "signed_in": sign_in.outcome == SignInOutcome.CHECKING,
            "system": system,
            "message": outcome_message(sign_in, system, session.partner.shown_name),
        }
        return _page(request, status=200, context=context)


def _page(request: HttpRequest, *, status: int, context: dict) -> HttpResponse:
    response = render(request, "connect/oauth_done.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"  # the URL carried a code and a state
    response["Cache-Control"] = "no-store"
    return response
