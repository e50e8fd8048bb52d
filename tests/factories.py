"""Build rows the way the product does (through services), for tests that start mid-flow, and
run a live check the way a worker does."""

from __future__ import annotations

from django.utils import timezone

from catalog import sandbox_oauth
from catalog.registry import get_definition
from connections.models import Connection, LinkSession, Partner, ValidationAttempt
from connections.security import crypto
from connections.services.connections import connection_activate, public_token_exchange
from connections.services.link_sessions import (
    LinkSessionSpec,
    link_session_complete,
    link_session_create,
    public_token_issue,
)
from connections.services.oauth import oauth_app_set
from connections.verification.failures import Outcome
from connections.verification.run import build_target, verify


def practice_sign_in(partner: Partner) -> None:
    """Register the Sandbox ERP's practice OAuth client for ``partner`` (as ``seed_demo`` does
    for the demo partner), so the Sandbox offers its sign-in too."""
    oauth_app_set(
        partner=partner,
        system="sandbox-erp",
        client_id=sandbox_oauth.CLIENT_ID,
        client_secret=sandbox_oauth.CLIENT_SECRET,
        actor="test",
    )


def link_session(partner: Partner, **spec: object) -> tuple[LinkSession, str]:
    spec.setdefault("end_user_id", "user-1")
    return link_session_create(partner=partner, spec=LinkSessionSpec(**spec), actor="test")


def validated_session(
    partner: Partner,
    *,
    system: str = "infoplus",
    config: dict[str, str] | None = None,
    credentials: dict[str, str] | None = None,
    end_user_id: str = "user-1",
    method: str = "",
) -> LinkSession:
    """A session whose details passed validation (as if the flow had run)."""
    session, _ = link_session(partner, end_user_id=end_user_id)
    attempt = ValidationAttempt(
        link_session=session,
        system_slug=system,
        method=method or get_definition(system).recommended_method.id,
        config=config if config is not None else {"site": "acme"},
        status="succeeded",
    )
    secrets = credentials if credentials is not None else {"api_key": "key-1"}
    attempt.credentials = crypto.seal(secrets, aad=crypto.associated_data(attempt, "credentials"))
    attempt.save()
    session.connection = connection_activate(attempt=attempt, session=session)
    session.validated_at = timezone.now()
    session.save()
    public_token_issue(session)
    return session


def connected(partner: Partner, **kwargs: object) -> tuple[Connection, str]:
    """An active connection and its access token, as a partner holds them."""
    session = validated_session(partner, **kwargs)
    public_token = link_session_complete(session=session)
    return public_token_exchange(partner=partner, public_token=public_token, actor="test")


def live_check(
    slug: str, method_id: str, config: dict[str, str], credentials: dict[str, str]
) -> Outcome | None:
    """Run one method's live check against whatever answers for the system (a simulator
    through the host map): None when it passed, else what failed."""
    definition = get_definition(slug)
    steps: dict[str, str] = {}
    target = build_target(definition, definition.method(method_id), config)
    return verify(target, credentials, steps.update)
