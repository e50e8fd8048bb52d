"""Pairing an agent, its presence, which calls it may carry, and revoking it.

An agent belongs to one partner's customer (partner, mode, end user id) and reaches only the
targets (host, port) confirmed at pairing. Onramp sends a connection's calls through it only
when the connection is bound to it and of that same customer (``agent_route_for_connection``);
everything else goes direct and keeps the outbound policy.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from catalog.registry import get_definition
from catalog.schema import MethodSpec, SystemDefinition
from connections.agents.models import Agent, AgentPairing, AgentStatus
from connections.agents.routing import instance_target
from connections.errors import OnrampError
from connections.events import EventKind
from connections.models import LinkSession, ValidationAttempt
from connections.security import crypto, tokens
from connections.security.ratelimit import Limit, enforce
from connections.security.tokens import TokenKind
from connections.services.audit import event_record
from connections.services.validation import attempt_start
from connections.verification.run import build_target

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
CODE_LENGTH = 8  # 40 bits, single use, 10 minutes, claims rate-limited per address
MAX_TARGETS = 8


def _code_digest(code: str) -> str:
    normalized = "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)
    return hashlib.sha256(f"agent-pairing:{normalized}".encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


@sensitive_variables()
@transaction.atomic
def pairing_start(
    *,
    session: LinkSession,
    definition: SystemDefinition,
    method: MethodSpec,
    config: dict[str, str],
    credentials: dict[str, str],
) -> tuple[AgentPairing, str]:
    """A one-time pairing code for the instance the end user entered; the details wait
    with it (secrets encrypted) until the agent is paired and the end user confirms. When
    this customer's agent already reaches that instance, it is used at once ('' code)."""
    host, port = instance_target(build_target(definition, method, config).base_url)
    AgentPairing.objects.filter(link_session=session, used_at=None).delete()  # one at a time
    code = _new_code()
    pairing = AgentPairing.objects.create(
        link_session=session,
        code_digest=_code_digest(code),
        host=host,
        port=port,
        system_slug=definition.slug,
        method=method.id,
        config=config,
        expires_at=timezone.now() + timedelta(seconds=settings.ONRAMP_AGENT_PAIRING_TTL),
    )
    aad = crypto.associated_data(pairing, "credentials")
    pairing.credentials = crypto.seal(credentials, aad=aad)
    _seal_code(pairing, code)
    if agent := _agent_already_serving(session, host, port):  # no new agent, no code
        pairing.agent, pairing.used_at, pairing.code_sealed, code = agent, timezone.now(), "", ""
    pairing.save(update_fields=["credentials", "code_sealed", "agent", "used_at"])
    return pairing, code


def _agent_already_serving(session: LinkSession, host: str, port: int) -> Agent | None:
    """This customer's agent that already reaches this instance (one agent serves several
    connections of the same customer, and a retry of the same session)."""
    agents = Agent.objects.filter(
        partner_id=session.partner_id,
        mode=session.mode,
        end_user_id=session.end_user_id,
        revoked_at=None,
    ).order_by("-created_at")
    return next((a for a in agents[:20] if a.fingerprint_for(host, port)), None)


def _seal_code(pairing: AgentPairing, code: str) -> None:
    aad = crypto.associated_data(pairing, "code_sealed")
    pairing.code_sealed = crypto.seal({"code": code}, aad=aad)


def pairing_code(pairing: AgentPairing) -> str:
    """The code to show while it can still be used ('' once used)."""
    if not pairing.code_sealed or pairing.used_at:
        return ""
    aad = crypto.associated_data(pairing, "code_sealed")
    return crypto.unseal(pairing.code_sealed, aad=aad)["code"]


def pairing_new_code(*, pairing: AgentPairing) -> str:
    """A fresh code for a pairing whose code expired (the details stay)."""
    code = _new_code()
    pairing.code_digest = _code_digest(code)
    _seal_code(pairing, code)
    pairing.expires_at = timezone.now() + timedelta(seconds=settings.ONRAMP_AGENT_PAIRING_TTL)
    pairing.save(update_fields=["code_digest", "code_sealed", "expires_at"])
    return code


@transaction.atomic
def pairing_claim(*, code: str, name: str, client_ip: str) -> tuple[Agent, str]:
    """The agent's side: a valid, unused, unexpired code becomes an agent and its token
    (shown once). Refused alike whatever is wrong with the code."""
    enforce((Limit(f"agent-pair:{client_ip}", 10, 600), "Too many pairing attempts."))
    refused = OnrampError("invalid_code", "This pairing code is wrong, used or expired.", 400)
    pairing = (
        AgentPairing.objects.select_for_update()
        .select_related("link_session__partner")
        .filter(code_digest=_code_digest(code))
        .first()
    )
    if pairing is None or pairing.used_at or pairing.is_expired:
        raise refused
    session = pairing.link_session
    if session.is_expired or session.locked_at:
        raise refused
    minted = tokens.mint(TokenKind.AGENT)
    agent = Agent.objects.create(
        partner=session.partner,
        mode=session.mode,
        end_user_id=session.end_user_id,
        name=name[:120],
        token_digest=minted.digest,
        targets=[{"host": pairing.host, "port": pairing.port, "fingerprint": ""}],
    )
    pairing.agent, pairing.used_at, pairing.code_sealed = agent, timezone.now(), ""
    pairing.save(update_fields=["agent", "used_at", "code_sealed"])
    event_record(
        partner=session.partner,
        kind=EventKind.AGENT_PAIRED,
        actor=f"agent:{agent.id}",
        link_session=session,
        data={"agent_id": agent.id, "target": f"{pairing.host}:{pairing.port}"},
    )
    return agent, minted.value


def agent_authenticate(token: str) -> Agent | None:
    """The agent a token belongs to, unless malformed, unknown or revoked."""
    if not tokens.well_formed(token, TokenKind.AGENT):
        return None
    agent = Agent.objects.filter(token_digest=tokens.digest(token)).first()
    if agent is None or agent.revoked_at is not None:
        return None
    return agent


def agent_report_fingerprints(*, agent: Agent, reported: list[dict]) -> None:
    """What the agent saw of its targets' certificates (SHA-256, hex), for the end user to
    confirm. A target it was not given is ignored; a confirmed pin never changes here."""
    confirmed = AgentPairing.objects.filter(agent=agent).exclude(confirmed_at=None).exists()
    if confirmed:
        return
    seen = {(str(r.get("host", "")), int(r.get("port") or 0)): r for r in reported[:MAX_TARGETS]}
    for target in agent.targets:
        found = seen.get((target["host"], int(target["port"])))
        fingerprint = str(found.get("fingerprint", "")) if found else ""
        if len(fingerprint) == 64 and all(c in "0123456789abcdef" for c in fingerprint):
            target["fingerprint"] = fingerprint
    agent.save(update_fields=["targets"])


def pairing_for_session(session: LinkSession) -> AgentPairing | None:
    return AgentPairing.objects.filter(link_session=session).select_related("agent").last()


def pairing_ready(pairing: AgentPairing) -> bool:
    """Paired, online and it has seen the instance's certificate: the end user may confirm."""
    agent = pairing.agent
    return bool(
        agent
        and agent.revoked_at is None
        and agent.status == AgentStatus.ONLINE
        and agent.fingerprint_for(pairing.host, pairing.port)
    )


@sensitive_variables()
def pairing_confirm(*, pairing: AgentPairing, client_ip: str) -> ValidationAttempt:
    """The end user confirmed the certificate: the usual live check starts, through the
    agent, with the details that waited (then erased here)."""
    if not pairing_ready(pairing):
        raise OnrampError("agent_not_ready", "The agent is not connected yet.", 409)
    definition = get_definition(pairing.system_slug)
    method = definition.method(pairing.method) if definition else None
    if method is None:
        raise OnrampError("not_found", "This system is no longer offered.", 404)
    credentials = crypto.unseal(
        pairing.credentials, aad=crypto.associated_data(pairing, "credentials")
    )
    pairing.confirmed_at = timezone.now()
    pairing.save(update_fields=["confirmed_at"])
    attempt = attempt_start(
        session=pairing.link_session,
        definition=definition,
        method=method,
        config=pairing.config,
        credentials=credentials,
        client_ip=client_ip,
    )
    AgentPairing.objects.filter(pk=pairing.pk).update(credentials="")
    return attempt
