"""The agent screen: an instance on the customer's private network is connected through the
Onramp agent. It shows the one-time pairing code and the install steps (Linux, Windows
Server), offers the hand-off to an IT colleague, and polls until the agent is paired and
reaches the instance; then the end user confirms the instance's certificate and the usual
live check runs through the agent."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from catalog.registry import get_definition
from connections.agents.models import AgentPairing
from connections.agents.services import (
    pairing_code,
    pairing_confirm,
    pairing_for_session,
    pairing_new_code,
    pairing_ready,
)
from connections.agents.views import agent_source
from connections.errors import OnrampError
from connections.flow.views.base import (
    HtmxHttpRequest,
    flow_screen,
    flow_url,
    screen,
    see_other,
)
from connections.flow.views.details import to_attempt
from connections.http.clientip import client_ip
from connections.models import LinkSession

POLL_MS = 2000


def _colons(hexdigest: str) -> str:
    return ":".join(hexdigest[i : i + 2] for i in range(0, len(hexdigest), 2)).upper()


def _context(request: HtmxHttpRequest, pairing: AgentPairing) -> dict:
    definition = get_definition(pairing.system_slug)
    code = pairing_code(pairing)
    onramp = request.build_absolute_uri("/").rstrip("/")
    ready = pairing_ready(pairing)
    fingerprint = pairing.agent.fingerprint_for(pairing.host, pairing.port) if ready else ""
    return {
        "definition": definition,
        "system": definition,
        "pairing": pairing,
        "code": code,
        "expired": bool(code) and pairing.is_expired,
        "ready": ready,
        "fingerprint": _colons(fingerprint),
        "onramp": onramp,
        "agent_sha256": agent_source()[1],
        "poll_url": flow_url(request, "agent-status"),
        "poll_ms": POLL_MS,
        "install_url": request.build_absolute_uri("/agent/install/"),
        "share_subject": _("Please install the Onramp agent for our %(name)s connection")
        % {"name": definition.name},
        "share_body": _(
            "Hi, could you install the Onramp agent so our integration can reach %(name)s at "
            "%(host)s:%(port)s? Steps: %(url)s Pairing code (one use, 10 minutes): %(code)s"
        )
        % {
            "name": definition.name,
            "host": pairing.host,
            "port": pairing.port,
            "url": request.build_absolute_uri("/agent/install/"),
            "code": code,
        },
        "hub_note": settings.ONRAMP_AGENT_HUB_URL,
    }


@require_GET
@flow_screen
def agent(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    pairing = pairing_for_session(session)
    if pairing is None:
        return see_other(flow_url(request, "start"))
    return screen(request, session, "agent", _context(request, pairing))


@require_GET
@flow_screen
def agent_status(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    pairing = pairing_for_session(session)
    if pairing is None:
        return HttpResponse(status=204)
    return screen(request, session, "agent", _context(request, pairing), partial="status")


@require_POST
@flow_screen
def agent_new_code(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    pairing = pairing_for_session(session)
    if pairing is not None and not pairing.used_at:
        pairing_new_code(pairing=pairing)
    return see_other(flow_url(request, "agent"))


@require_POST
@flow_screen
def agent_confirm(request: HtmxHttpRequest, session: LinkSession) -> HttpResponse:
    """The end user recognises the certificate: the live check starts through the agent."""
    pairing = pairing_for_session(session)
    if pairing is None:
        return see_other(flow_url(request, "start"))
    try:
        attempt = pairing_confirm(pairing=pairing, client_ip=client_ip(request))
    except OnrampError:
        return screen(request, session, "agent", _context(request, pairing), status=409)
    return to_attempt(request, attempt)
