"""What an agent calls on Onramp's web side (JSON, no session, no cookies), and its download.

``POST /agent/v1/pair`` ``{code, name}`` → ``{agent_id, token, hub_url, targets}`` (the token
is shown once); ``POST /agent/v1/targets`` with the agent's token ``{targets: [{host, port,
fingerprint}]}`` → 204: what it saw of its targets' certificates. The control connection
itself is the hub's (``hub.py``), never a web worker's.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from connections.agents.services import (
    agent_authenticate,
    agent_report_fingerprints,
    pairing_claim,
)
from connections.errors import OnrampError
from connections.http.clientip import client_ip

AGENT_FILE = Path(__file__).with_name("onramp_agent.py")
MAX_BODY = 16 * 1024


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _json_body(request: HttpRequest) -> dict | None:
    if len(request.body) > MAX_BODY:
        return None
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@csrf_exempt
@require_POST
def pair(request: HttpRequest) -> HttpResponse:
    body = _json_body(request)
    if body is None or not isinstance(body.get("code"), str) or len(body["code"]) > 20:
        return _error("invalid_request", "Send {code, name}.", 400)
    try:
        agent, token = pairing_claim(
            code=body["code"], name=str(body.get("name", ""))[:120], client_ip=client_ip(request)
        )
    except OnrampError as exc:
        return _error(exc.code, exc.message, exc.status)
    targets = [{"host": t["host"], "port": t["port"]} for t in agent.targets]
    hub_url = settings.ONRAMP_AGENT_HUB_URL
    return JsonResponse(
        {"agent_id": agent.id, "token": token, "hub_url": hub_url, "targets": targets},
        status=201,
    )


@csrf_exempt
@require_POST
def targets(request: HttpRequest) -> HttpResponse:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    agent = agent_authenticate(token)
    if agent is None:
        return _error("invalid_token", "Unknown or revoked agent.", 401)
    body = _json_body(request)
    if body is None or not isinstance(body.get("targets"), list):
        return _error("invalid_request", "Send {targets: [...]}.", 400)
    reported = [t for t in body["targets"] if isinstance(t, dict)]
    try:
        agent_report_fingerprints(agent=agent, reported=reported)
    except (TypeError, ValueError):
        return _error("invalid_request", "Each target is {host, port, fingerprint}.", 400)
    return HttpResponse(status=204)


@cache
def agent_source() -> tuple[bytes, str]:
    """The agent's source and its SHA-256 (shown beside the download)."""
    source = AGENT_FILE.read_bytes()
    return source, hashlib.sha256(source).hexdigest()


@require_GET
def install(request: HttpRequest) -> HttpResponse:
    """The install page for a customer's IT: what the agent does and how to run it (public;
    the pairing code comes from the person connecting)."""
    onramp = request.build_absolute_uri("/").rstrip("/")
    context = {"onramp": onramp, "agent_sha256": agent_source()[1], "code": ""}
    response = render(request, "connect/agent_install.html", context)
    response["X-Frame-Options"] = "DENY"
    return response


@require_GET
def download(request: HttpRequest) -> HttpResponse:
    source, digest = agent_source()
    response = HttpResponse(source, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="onramp-agent.py"'
    response["X-Content-SHA256"] = digest
    return response
