"""The sign-in step (OAuth 2.0 authorization code with PKCE): the customer signs in to their
system and allows the partner's app; Onramp never sees their password.

From the iframe the consent page opens in a popup (a user's click) while the iframe polls
``status``; on a hosted page it is a full redirect and the callback sends the user back.
Either way the browser first opens Onramp's start URL (``views/oauth_callback.py``), which
binds the sign-in to it with a first-party cookie (the iframe's own cookies may be blocked;
the popup's are first-party). The iframe learns how the sign-in went from the server only:
a provider page that isolates itself (``Cross-Origin-Opener-Policy``) makes the popup look
closed to its opener the moment it loads. The callback trades the code, and
``sign_in_check`` starts the live check; the screen follows the check like any other.
Declined consent, an expired sign-in, a sign-in finished in another browser and a missing
organisation each get their own message and a way to try again.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog.registry import get_definition
from catalog.schema import MethodSpec
from connections.errors import OnrampError, with_headers
from connections.flow.forms import DetailsForm
from connections.flow.steps.base import FlowStep, StepIncomplete
from connections.flow.views.base import (
    HtmxHttpRequest,
    flow_screen,
    flow_url,
    flow_view,
    fragment,
    method_context,
    screen,
    see_other,
)
from connections.models import LinkSession, SignIn, SignInOutcome
from connections.services.oauth import (
    SignInResult,
    sign_in_attach,
    sign_in_begin,
    sign_in_end,
    sign_in_expire_stale,
    sign_in_latest,
)
from connections.services.validation import attempt_start


class OAuthSignInStep(FlowStep):
    name = "oauth_sign_in"
    template = "connect/steps/oauth_sign_in.html"

    def urlpatterns(self) -> list[Any]:
        base = "<str:link_token>/s/<slug:slug>/<slug:method_id>/sign-in/"
        return [
            path(base, begin, name="sign-in"),
            path(base + "status/", status, name="sign-in-status"),
        ]

    def context(self, session: LinkSession, method: MethodSpec) -> dict[str, Any]:
        return {"signs_in": True}

    def contribute(
        self, session: LinkSession, method: MethodSpec
    ) -> tuple[dict[str, str], dict[str, str]]:
        raise StepIncomplete(_("Sign in to connect."))  # details are submitted by signing in


step = OAuthSignInStep()


def outcome_message(sign_in: SignIn, system: str, partner: str) -> str:
    messages = {
        SignInOutcome.DENIED: _(
            "You declined access in %(system)s. To connect, sign in again and allow access."
        ),
        SignInOutcome.EXPIRED: _("This sign-in took too long or was already used. Sign in again."),
        SignInOutcome.CLOSED: _(
            "The sign-in window was closed before you finished. Sign in again."
        ),
        SignInOutcome.NO_TENANT: _(
            "You signed in, but no %(system)s organisation was connected. Sign in again and "
            "choose the organisation to connect."
        ),
        SignInOutcome.FAILED: _(
            "%(system)s did not complete the sign-in. Sign in again; if it keeps happening, "
            "contact %(partner)s."
        ),
        SignInOutcome.OTHER_BROWSER: _(
            "This sign-in was started in another browser, so it was not used. Go back to "
            "where you started connecting to %(system)s and sign in again there."
        ),
    }
    return messages.get(sign_in.outcome, "") % {"system": system, "partner": partner}


@require_POST
@sensitive_post_parameters()  # the details typed so far
@sensitive_variables()
@flow_screen
def begin(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    """The details typed so far (e.g. an environment), then off to the consent page."""
    context = method_context(request, session, slug, method_id, back="prepare")
    definition, method = context["definition"], context["method"]
    form = DetailsForm(request.POST, specs=definition.fields + method.fields)
    context |= {"form": form, "step": step, "signs_in": True}
    if not form.is_valid():
        return screen(request, session, "details", context, status=422)
    config, _secrets = form.split()
    try:
        consent_url = sign_in_begin(
            session=session,
            definition=definition,
            method=method,
            config=config,
            return_url=request.build_absolute_uri(
                flow_url(request, "sign-in-status", slug, method.id)
            ),
            in_popup=request.POST.get("in_popup") == "1",
        )
    except OnrampError as exc:
        form.add_error(None, exc.message)
        return with_headers(screen(request, session, "details", context, status=exc.status), exc)
    if request.htmx:  # the iframe opened the sign-in window itself and sends it there
        response = HttpResponse(status=204)
        response["X-Sign-In-Url"] = consent_url
        return response
    return HttpResponseRedirect(consent_url)


@require_GET
@flow_view  # also once the session is validated: the answer then leads to the check's result
def status(
    request: HtmxHttpRequest, session: LinkSession, slug: str, method_id: str
) -> HttpResponse:
    """Where the sign-in stands: waiting, on to the check, or why it ended."""
    context = method_context(request, session, slug, method_id, back="prepare")
    sign_in = sign_in_latest(session, method_id)
    if sign_in is None:
        return see_other(flow_url(request, "details", slug, method_id))
    sign_in = sign_in_expire_stale(sign_in)
    in_progress = sign_in.outcome == SignInOutcome.WAITING or (
        sign_in.outcome == SignInOutcome.CHECKING and not sign_in.attempt_id
    )
    if in_progress and request.htmx:
        return HttpResponse(status=204)  # still signing in: nothing to change on screen
    if sign_in.attempt_id:
        attempt_url = flow_url(request, "attempt", sign_in.attempt_id)
        if request.htmx:
            return HttpResponseClientRedirect(attempt_url)
        return HttpResponseRedirect(attempt_url)
    message = outcome_message(sign_in, context["system"].name, session.partner.shown_name)
    context |= {"step": step, "signs_in": True, "sign_in": sign_in, "sign_in_error": message}
    if request.htmx:
        return fragment(request, session, step.template, context)
    form = DetailsForm(
        specs=context["definition"].fields + context["method"].fields, initial=sign_in.config
    )
    return screen(request, session, "details", context | {"form": form})


def sign_in_check(result: SignInResult, *, client_ip: str) -> SignIn:
    """What a sign-in granted goes through the live check like typed credentials."""
    sign_in = result.sign_in
    if result.credentials is None:
        return sign_in
    definition = get_definition(sign_in.system_slug)
    try:
        attempt = attempt_start(
            session=sign_in.link_session,
            definition=definition,
            method=definition.method(sign_in.method),
            config=result.config,
            credentials=result.credentials,
            client_ip=client_ip,
        )
    except OnrampError as exc:  # the link closed meanwhile, or too many checks right now
        return sign_in_end(sign_in, SignInOutcome.FAILED, exc.message)
    return sign_in_attach(sign_in, attempt)
