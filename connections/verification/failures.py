"""Why a validation failed, at which step, and what the user should do about it.

Every failure has a code (stored on the attempt and the connection, shown to partners), the
step it fails, a message saying what happened and advice saying what to do. A system's
definition can replace the advice for a code (``[messages]``) where it knows better.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from django.utils.translation import gettext_lazy as _

REACH, AUTHENTICATE, TEST_CALL, PERMISSIONS = "reach", "authenticate", "test_call", "permissions"
CHECK_STAGES = (REACH, AUTHENTICATE, TEST_CALL, PERMISSIONS)
CHECK_STAGE_LABELS = {
    REACH: _("Reach the system"),
    AUTHENTICATE: _("Sign in"),
    TEST_CALL: _("Make a test call"),
    PERMISSIONS: _("Check permissions"),
}


class Blame(Enum):
    """Whose problem a failure is, which decides what it changes.

    CREDENTIALS and SETUP are the customer's (an attempt ``failed``; it counts against the
    session). A stored connection turns invalid at once on CREDENTIALS, and on SETUP or
    NETWORK only when they persist across health checks. OURS never counts or changes a
    connection; NETWORK and OURS end an attempt in ``error``.
    """

    CREDENTIALS = "credentials"
    SETUP = "setup"
    NETWORK = "network"
    OURS = "ours"

    @property
    def is_customers(self) -> bool:
        return self in (Blame.CREDENTIALS, Blame.SETUP)


@dataclass(frozen=True)
class Failure:
    step: str
    message: str  # may use {host}, {permission}, {status}, {system}
    advice: str
    blame: Blame = Blame.SETUP


FAILURES: dict[str, Failure] = {
    "invalid_url": Failure(
        REACH,
        _("The address of your system is not valid."),
        _("Check the address you entered."),
    ),
    "forbidden_address": Failure(
        REACH,
        _("{host} points to a private or reserved network address."),
        _("Use the public address of your system; Onramp cannot reach private networks."),
    ),
    "host_not_found": Failure(
        REACH,
        _("We could not find {host}."),
        _("Check the address or account ID for typos: this usually means it is misspelled."),
    ),
    "tls_error": Failure(
        REACH,
        _("The secure connection to {host} failed."),
        _("The system's TLS certificate may be invalid or expired. Ask your IT team."),
    ),
    "timeout": Failure(
        REACH,
        _("{host} did not answer in time."),
        _(
            "Try again in a minute. If it keeps happening, the system may be down or behind a "
            "firewall that blocks Onramp."
        ),
        Blame.NETWORK,
    ),
    "connection_failed": Failure(
        REACH,
        _("We could not connect to {host}."),
        _("Check the address, and that the system accepts connections from the internet."),
        Blame.NETWORK,
    ),
    "invalid_credentials": Failure(
        AUTHENTICATE,
        _("{host} rejected these credentials."),
        _("Check the credentials for typos and that the user is active, then try again."),
        Blame.CREDENTIALS,
    ),
    "invalid_client": Failure(
        AUTHENTICATE,
        _("{host} did not accept the integration's credentials (invalid_client)."),
        _("Check the client ID and the key or secret that goes with it."),
        Blame.CREDENTIALS,
    ),
    "invalid_grant": Failure(
        AUTHENTICATE,
        _("{host} refused to grant access (invalid_grant)."),
        _("Check that the grant type, scopes and the user or role behind it are enabled."),
        Blame.CREDENTIALS,
    ),
    "refresh_interrupted": Failure(
        AUTHENTICATE,
        _(
            "{host} no longer accepts this connection's sign-in: a renewal of it was "
            "interrupted before Onramp could keep the new one."
        ),
        _("Reconnect to sign in again; nothing else needs to change."),
        Blame.CREDENTIALS,
    ),
    "invalid_request": Failure(
        AUTHENTICATE,
        _("{host} refused the sign-in request (invalid_request)."),
        _(
            "The integration's settings may not match what Onramp sends; check its grant types "
            "and scopes."
        ),
        Blame.CREDENTIALS,
    ),
    "clock_skew": Failure(
        AUTHENTICATE,
        _("{host} and Onramp disagree about the current time."),
        _(
            "Signed requests are only valid for a few minutes. Try again; if it keeps "
            "happening, contact support with the time of this attempt."
        ),
        Blame.OURS,
    ),
    "forbidden": Failure(
        PERMISSIONS,
        _("Signed in, but the account is missing a permission: {permission}."),
        _("Ask an administrator to grant it to the user or role, then try again."),
        Blame.CREDENTIALS,
    ),
    "redirected": Failure(
        TEST_CALL,
        _("{host} answered with a redirect instead of data."),
        _(
            "This usually means the address points to a login page rather than the API. "
            "Check the address."
        ),
    ),
    "not_found": Failure(
        TEST_CALL,
        _("{host} answered, but not where we expected ({status})."),
        _("Check the address: it may belong to a different product or an old instance."),
    ),
    "rate_limited": Failure(
        TEST_CALL,
        _("{host} is limiting requests right now."),
        _("Wait a minute and try again."),
        Blame.NETWORK,
    ),
    "server_error": Failure(
        TEST_CALL,
        _("{host} had an internal error ({status})."),
        _("This is a problem on the system's side. Try again later."),
        Blame.NETWORK,
    ),
    "unexpected_response": Failure(
        TEST_CALL,
        _("{host} gave an answer we did not expect ({status})."),
        _("Check the address. If it looks right, contact support with the time of this attempt."),
    ),
    "response_too_large": Failure(
        TEST_CALL,
        _("{host} sent a response that was too large."),
        _("Check the address: it may point to something other than the API."),
    ),
    "attempts_exhausted": Failure(
        REACH,
        _("Too many attempts."),
        _("For your security this link is locked. Ask for a new link to try again."),
        Blame.OURS,
    ),
    "rate_limited_local": Failure(
        REACH,
        _("Too many attempts in a short time."),
        _("Wait a few minutes and try again."),
        Blame.OURS,
    ),
    "not_the_api": Failure(
        TEST_CALL,
        _("{host} answers, but not like the {system} API."),
        _(
            "The address may point to a website, a login page or another product. Check the "
            "address, then try again."
        ),
    ),
    "check_refused": Failure(
        PERMISSIONS,
        _("Signed in, but {system} refused the check: {permission}."),
        _("Check the values you entered (a company number, say) and the user's access."),
    ),
    "connection_revoked": Failure(
        PERMISSIONS,
        _("This connection was revoked while it was being checked."),
        _("Ask for a new link to connect again."),
        Blame.OURS,
    ),
    "busy": Failure(
        TEST_CALL,
        _("We are checking many connections right now and could not start yours in time."),
        _("This was a problem on our side, not with your details. Try again in a minute."),
        Blame.OURS,
    ),
    "worker_lost": Failure(
        TEST_CALL,
        _("We could not finish checking."),
        _("This was a problem on our side, not with your details. Try again."),
        Blame.OURS,
    ),
    "internal_error": Failure(
        TEST_CALL,
        _("Something went wrong on our side."),
        _("Try again. If it keeps happening, contact support."),
        Blame.OURS,
    ),
}


@dataclass(frozen=True)
class Outcome:
    """A failure, rendered for one attempt: safe to store and show (escaped)."""

    code: str
    step: str
    message: str
    advice: str
    detail: str = ""

    @property
    def blame(self) -> Blame:
        return FAILURES[self.code].blame


def describe(
    code: str,
    *,
    step: str | None = None,
    host: str = "",
    permission: str = "",
    status: int | None = None,
    system: str = "",
    detail: str = "",
    advice_overrides: dict[str, str] | None = None,
) -> Outcome:
    failure = FAILURES[code]
    values = {
        "host": host or _("the system"),
        "permission": permission or _("unknown"),
        "status": status or "",
        "system": system or _("expected"),
    }
    override = (advice_overrides or {}).get(code)
    advice = override or str(failure.advice).format(**values)
    message = str(failure.message).format(**values)
    return Outcome(code, step or failure.step, message, advice, detail)
