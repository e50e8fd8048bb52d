"""Partners, link sessions, connections, tokens and the audit trail.

Ids shown to partners are prefixed and opaque (``conn_…``, ``ls_…``). Secrets are stored only
as ciphertext (``crypto.py``) and tokens only as SHA-256 digests (``tokens.py``).
"""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connections.agents.models import Agent, AgentPairing  # noqa: F401

# The syncs' tables are this app's models too (``syncs/models.py`` names Connection by string).
from connections.syncs.models import SyncedRecord, SyncRun, SyncState  # noqa: F401

_ID_ALPHABET = string.ascii_letters + string.digits
SLOW_ATTEMPT = timedelta(seconds=20)
NOT_STARTED = timedelta(seconds=3)


def random_id(prefix: str) -> str:
    """``prefix_`` and 22 random base62 characters (about 131 bits)."""
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


# Module-level defaults, so migrations can refer to them.
def new_partner_id() -> str:
    return random_id("ptn")


def new_key_id() -> str:
    return random_id("key")


def new_link_session_id() -> str:
    return random_id("ls")


def new_connection_id() -> str:
    return random_id("conn")


def new_token_id() -> str:
    return random_id("tok")


def new_attempt_id() -> str:
    return random_id("va")


def new_event_id() -> str:
    return random_id("evt")


def new_signing_key_id() -> str:
    return random_id("sk")


def new_credential_file_id() -> str:
    return random_id("cf")


def new_oauth_app_id() -> str:
    return random_id("oa")


def new_sign_in_id() -> str:
    return random_id("si")


def new_endpoint_id() -> str:
    return random_id("whe")


def new_delivery_id() -> str:
    """Also the Standard Webhooks ``webhook-id``: the same on every retry of a delivery."""
    return random_id("msg")


hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #4f46e5."))


class Mode(models.TextChoices):
    """Test keys build safely: they see only the Sandbox ERP and test connections."""

    LIVE = "live", _("Live")
    TEST = "test", _("Test")


TEST_SYSTEMS = ("sandbox-erp",)  # what a test key's link sessions may connect


class Partner(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_partner_id, editable=False)
    name = models.CharField(max_length=120)
    display_name = models.CharField(
        max_length=120, blank=True, help_text=_("Shown to end users; defaults to the name.")
    )
    logo_url = models.URLField(blank=True, max_length=500)
    primary_colour = models.CharField(max_length=7, default="#4f46e5", validators=[hex_colour])
    support_url = models.URLField(blank=True, max_length=500)
    privacy_url = models.URLField(blank=True, max_length=500)
    lead_text = models.CharField(
        max_length=300, blank=True, help_text=_("The first screen's lead text, if not ours.")
    )
    # {"de": "…", "fr": "…"}: the lead text in an end user's language, else ``lead_text``.
    lead_text_translations = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'The lead text per language, e.g. {"de": "…", "fr": "…"}; a language without one '
            "shows the lead text above."
        ),
    )
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Exact origins allowed to embed the flow, e.g. https://app.example.com"),
    )
    # The unified models the partner reads (``syncs/schemas.py``), e.g. ["purchase_orders"];
    # null: every model a connection's system offers; []: none (the proxy only).
    sync_models = models.JSONField(
        null=True,
        blank=True,
        default=None,
        help_text=_(
            'What Onramp syncs for this partner, e.g. ["purchase_orders", "vendors"]; '
            "empty: every model a system offers."
        ),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name

    def reads(self, model: str) -> bool:
        """Whether this partner syncs ``model`` (every model unless it declared which)."""
        return self.sync_models is None or model in self.sync_models


class PartnerKey(models.Model):
    """A partner's secret API key (``onr_sk_…``), stored as a digest."""

    id = models.CharField(primary_key=True, max_length=32, default=new_key_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="keys")
    label = models.CharField(max_length=120, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    display = models.CharField(max_length=32, editable=False)
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.LIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the key is rolled: it keeps working until then (Stripe's "roll key").
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.display


class LinkSessionStatus(models.TextChoices):
    """Where a link session stands, as partners see it (``GET /link-sessions/{id}``)."""

    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    EXCHANGED = "exchanged", _("Exchanged")
    LOCKED = "locked", _("Locked")
    EXPIRED = "expired", _("Expired")


class LinkSession(models.Model):
    """One end user's run through the flow, created by the partner API."""

    id = models.CharField(
        primary_key=True, max_length=32, default=new_link_session_id, editable=False
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="sessions")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    end_user_id = models.CharField(max_length=200)
    end_user_email = models.EmailField(blank=True)
    end_user_organization = models.CharField(max_length=200, blank=True)
    systems = models.JSONField(default=list, blank=True)
    connection = models.ForeignKey(
        "Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    allowed_origin = models.CharField(max_length=300, blank=True)
    redirect_url = models.URLField(blank=True, max_length=1000)
    locale = models.CharField(max_length=16, blank=True, default="")  # empty: the browser's
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.LIVE)
    # Overrides of the partner's branding for this session (display_name, logo_url, …).
    branding = models.JSONField(default=dict, blank=True)
    # Where the end user was, to resume there; what they typed (non-secret values only).
    last_screen = models.CharField(max_length=300, blank=True)
    drafts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # Funnel progress.
    opened_at = models.DateTimeField(null=True, blank=True)
    system_chosen = models.CharField(max_length=63, blank=True)
    method_chosen = models.CharField(max_length=63, blank=True)
    guide_viewed_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    # The one-time public token handed to the partner's page on success.
    public_token_digest = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    public_token_sealed = models.TextField(blank=True, editable=False)
    public_token_expires_at = models.DateTimeField(null=True, blank=True)
    public_token_used_at = models.DateTimeField(null=True, blank=True)

    encrypted_fields = ("public_token_sealed",)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="link_session_newest"),
            models.Index(fields=["end_user_id"], name="link_session_end_user"),  # find a customer
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_usable(self) -> bool:
        return not (self.is_expired or self.completed_at or self.locked_at)


class ConnectionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    INVALID = "invalid", _("Invalid")
    REVOKED = "revoked", _("Revoked")
    # Its on-premises agent is gone (not the customer's credentials): back by itself.
    AGENT_OFFLINE = "agent_offline", _("Agent offline")


class Connection(models.Model):
    """A validated link to one customer system. Credentials are ciphertext only."""

    id = models.CharField(
        primary_key=True, max_length=32, default=new_connection_id, editable=False
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="connections")
    system = models.ForeignKey(
        "catalog.System", to_field="slug", on_delete=models.PROTECT, related_name="connections"
    )
    method = models.CharField(max_length=63)
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.LIVE)
    end_user_id = models.CharField(max_length=200, db_index=True)
    end_user_email = models.EmailField(blank=True)
    end_user_organization = models.CharField(max_length=200, blank=True)
    config = models.JSONField(default=dict, blank=True)
    credentials = models.TextField(blank=True, editable=False)
    status = models.CharField(
        max_length=16,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.PENDING,
        db_index=True,
    )
    last_validated_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Network-class failures in a row (health checks tolerate a few before "invalid").
    consecutive_failures = models.PositiveIntegerField(default=0)
    # When the stored access token expires (OAuth sign-ins), for the refresher.
    credentials_expire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Use through the proxy (counts and times only: never a body).
    proxy_requests = models.PositiveBigIntegerField(default=0)
    last_proxied_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=63, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    # The link session that made this connection: one session yields at most one.
    origin_session = models.OneToOneField(
        "LinkSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="made_connection",
        editable=False,
    )
    # A change an outage kept from reaching the token cache (the sweeper catches up).
    token_cache_stale_since = models.DateTimeField(null=True, blank=True, editable=False)
    # A token refresh in flight holds this lease; one found lapsed was interrupted.
    refresh_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_interrupted = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # An on-premises system: every call goes through this agent (``connections/agents``).
    agent = models.ForeignKey(
        "Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="connections"
    )

    encrypted_fields = ("credentials",)

    class Meta:
        indexes = [
            models.Index(fields=["partner", "end_user_id"]),
            # The partner API's list, newest first, paged by (created_at, id): keyset.
            models.Index(
                fields=["partner", "mode", "-created_at", "-id"], name="connection_partner_page"
            ),
            models.Index(fields=["-created_at", "-id"], name="connection_newest"),  # admin
            models.Index(
                fields=["token_cache_stale_since"],
                condition=models.Q(token_cache_stale_since__isnull=False),
                name="connection_token_cache_stale",
            ),
        ]

    def __str__(self) -> str:
        return self.id


class ConnectionToken(models.Model):
    """A partner's access token for one connection (``onr_ct_…``), stored as a digest."""

    id = models.CharField(primary_key=True, max_length=32, default=new_token_id, editable=False)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    display = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.display


class AttemptStatus(models.TextChoices):
    """``failed`` is the customer's problem (bad password, missing permission); ``error`` is
    ours or transient (worker lost, timeout, broker down, decryption) and never counts
    against a session or changes a connection."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    ERROR = "error", _("Error")


IN_FLIGHT = (AttemptStatus.QUEUED, AttemptStatus.RUNNING)
FINISHED = (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED, AttemptStatus.ERROR)


class StageState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ValidationAttempt(models.Model):
    """One live check of a configuration, from the flow or a revalidation.

    Holds the candidate configuration and (encrypted) credentials, so a connection never
    changes until a check has passed.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_attempt_id, editable=False)
    link_session = models.ForeignKey(
        LinkSession, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    system_slug = models.CharField(max_length=63)
    method = models.CharField(max_length=63)
    config = models.JSONField(default=dict)
    credentials = models.TextField(blank=True, editable=False)
    status = models.CharField(
        max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.QUEUED
    )
    steps = models.JSONField(default=dict)
    error_code = models.CharField(max_length=63, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_advice = models.CharField(max_length=500, blank=True)
    error_detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Sent to the broker (null: not yet, or the broker was down; the sweeper sends it).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A running attempt's lease: past it, the sweeper takes the run for dead.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    runs = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Started by Onramp itself (a health check, a proxied call the system refused), not by a
    # person: a refused sign-in must be seen twice, minutes apart, before it counts.
    by_system = models.BooleanField(default=False)

    encrypted_fields = ("credentials",)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="attempt_status_age"),
            models.Index(fields=["-created_at", "-id"], name="attempt_newest"),  # admin
        ]
        constraints = [
            # One attempt in flight per link session, and per connection (revalidations).
            models.UniqueConstraint(
                fields=["link_session"],
                condition=models.Q(status__in=IN_FLIGHT),
                name="one_attempt_in_flight_per_session",
            ),
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(status__in=IN_FLIGHT, link_session=None),
                name="one_revalidation_in_flight_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_waiting_to_start(self) -> bool:
        """Queued but not yet handed to a worker (the broker was down): the sweeper retries."""
        return (
            self.status == AttemptStatus.QUEUED
            and self.dispatched_at is None
            and timezone.now() - self.created_at > NOT_STARTED
        )

    @property
    def is_in_line(self) -> bool:
        """Queued and sent, not started after a few seconds: the workers are busy (often with
        the partner's other customers' checks: ``services/admission.py``)."""
        return (
            self.status == AttemptStatus.QUEUED
            and self.dispatched_at is not None
            and timezone.now() - self.created_at > NOT_STARTED
        )

    @property
    def is_slow(self) -> bool:
        """Unfinished well past the usual few seconds (a busy or stopped worker)."""
        return not self.is_finished and timezone.now() - self.created_at > SLOW_ATTEMPT


class SigningKey(models.Model):
    """A key pair for certificate-based auth, made or checked during one link session.

    The private key is ciphertext only and never leaves the server; the certificate is the
    public half the customer uploads to their system.
    """

    id = models.CharField(
        primary_key=True, max_length=32, default=new_signing_key_id, editable=False
    )
    link_session = models.ForeignKey(
        LinkSession, on_delete=models.CASCADE, related_name="signing_keys"
    )
    source = models.CharField(
        max_length=16, choices=[("generated", _("Generated")), ("uploaded", _("Uploaded"))]
    )
    algorithm = models.CharField(max_length=8)
    private_key = models.TextField(editable=False)
    certificate_pem = models.TextField()
    fingerprint = models.CharField(max_length=100)
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    encrypted_fields = ("private_key",)

    def __str__(self) -> str:
        return f"{self.algorithm} {self.fingerprint[:23]}"


class CredentialFile(models.Model):
    """A credentials file the customer dropped in the flow (Infor's ``.ionapi``): what may be
    shown (tenant, app name, addresses) in ``summary``, the rest as ciphertext."""

    id = models.CharField(
        primary_key=True, max_length=32, default=new_credential_file_id, editable=False
    )
    link_session = models.ForeignKey(
        LinkSession, on_delete=models.CASCADE, related_name="credential_files"
    )
    kind = models.CharField(max_length=16)
    summary = models.JSONField(default=dict)
    secrets = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    encrypted_fields = ("secrets",)

    def __str__(self) -> str:
        return f"{self.kind} {self.summary.get('tenant', '')}"


class OAuthApp(models.Model):
    """A partner's own OAuth client for one system: end users consent to the partner's app
    (white-label), through Onramp's one redirect URI. The secret is ciphertext only."""

    id = models.CharField(
        primary_key=True, max_length=32, default=new_oauth_app_id, editable=False
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="oauth_apps")
    system = models.CharField(max_length=63)
    client_id = models.CharField(max_length=300)
    client_secret = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    encrypted_fields = ("client_secret",)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "system"], name="one_oauth_app_per_system")
        ]
        verbose_name = "OAuth app"

    def __str__(self) -> str:
        return f"{self.system} ({self.client_id[:12]}…)"


class SignInOutcome(models.TextChoices):
    WAITING = "", _("Waiting")
    CHECKING = "checking", _("Signed in, being checked")
    DENIED = "denied", _("Access declined")
    EXPIRED = "expired", _("Expired")
    CLOSED = "closed", _("Window closed")
    NO_TENANT = "no_tenant", _("No organisation connected")
    FAILED = "failed", _("Failed")
    OTHER_BROWSER = "other_browser", _("Finished in another browser")


class SignIn(models.Model):
    """One "sign in and consent" round trip, bound to its link session server-side (no
    cookies): the ``state`` (stored as a digest) finds it again on the callback, with its
    PKCE verifier (ciphertext) and the details typed before signing in."""

    id = models.CharField(primary_key=True, max_length=32, default=new_sign_in_id, editable=False)
    link_session = models.ForeignKey(
        LinkSession, on_delete=models.CASCADE, related_name="sign_ins"
    )
    system_slug = models.CharField(max_length=63)
    method = models.CharField(max_length=63)
    state_digest = models.CharField(max_length=64, unique=True, editable=False)
    code_verifier = models.TextField(editable=False)
    return_url = models.TextField(editable=False)  # the flow's URL holds the link token
    # The provider's consent page (it holds the state), until the browser is bound.
    authorize_url = models.TextField(editable=False, blank=True)
    # The sign-in is bound to the browser that opens it first (a first-party cookie).
    binding_digest = models.CharField(max_length=64, editable=False, blank=True)
    browser_digest = models.CharField(max_length=64, editable=False, blank=True)
    bound_at = models.DateTimeField(null=True, blank=True, editable=False)
    in_popup = models.BooleanField(default=True)
    config = models.JSONField(default=dict)
    outcome = models.CharField(
        max_length=16, choices=SignInOutcome.choices, default=SignInOutcome.WAITING, blank=True
    )
    outcome_detail = models.CharField(max_length=300, blank=True)
    attempt = models.ForeignKey(
        "ValidationAttempt", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    encrypted_fields = ("code_verifier", "return_url", "authorize_url")

    def __str__(self) -> str:
        return self.id


class RemoteRevocation(models.Model):
    """A provider's grant to revoke after its connection was revoked (an outbox row): the
    refresh token as ciphertext until the provider has been told."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    token = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    tries = models.PositiveSmallIntegerField(default=0)

    encrypted_fields = ("token",)

    def __str__(self) -> str:
        return f"revocation for {self.connection_id}"


class Event(models.Model):
    """The audit trail: every state change, who did it, never a secret."""

    id = models.CharField(primary_key=True, max_length=32, default=new_event_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=63, db_index=True)
    actor = models.CharField(max_length=200)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    link_session = models.ForeignKey(
        LinkSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)
    # The webhook body, for the kinds partners receive (built when the event happens).
    payload = models.JSONField(null=True, blank=True, editable=False)
    # Per connection, for the kinds partners receive: orders a connection's webhooks.
    sequence = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["connection", "sequence"], name="event_sequence")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor}"


class WebhookEndpoint(models.Model):
    """Where a partner receives events, signed with its own secret (``whsec_…``)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_endpoint_id, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2048)
    # Made with a test key: hears only what test keys made, and may be on localhost while
    # ONRAMP_ALLOW_LOCAL_WEBHOOKS is on (development).
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.LIVE)
    events = models.JSONField(default=list, blank=True, help_text=_("Empty: every event."))
    secret = models.TextField(editable=False)
    # After a rotation the old secret still signs (a second signature) for a day.
    previous_secret = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # Failed tries in a row since ``failing_since`` (a success resets both).
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    encrypted_fields = ("secret", "previous_secret")

    def __str__(self) -> str:
        return self.url

    def wants(self, kind: str) -> bool:
        """Subscribed to ``kind`` (a disabled endpoint still is: its deliveries are held)."""
        return not self.events or kind in self.events

    def hears(self, mode: str) -> bool:
        """A test endpoint hears only what test keys made; a live one hears both (each
        payload says its ``mode``), as it always has."""
        return self.mode == Mode.LIVE or mode == Mode.TEST


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    # Written or due while its endpoint was disabled: sent once the endpoint is enabled.
    HELD = "held", _("Held (endpoint disabled)")


class WebhookDelivery(models.Model):
    """One event for one endpoint (the outbox): written with the event, sent by a worker,
    retried on a schedule, never lost (the sweeper sends what is due)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_delivery_id, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Who holds the claim: a try settles only while this is still its token.
    claimed_by = models.CharField(max_length=32, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.CharField(max_length=1024, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_by_endpoint"),
            # The admin's list and the partner API's, newest first, paged by (created_at, id).
            models.Index(fields=["-created_at", "-id"], name="delivery_newest"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return self.id


class SystemFigures(models.Model):
    """Per system, what the admin's systems page shows, recounted by a beat task
    (``services/system_figures.py``) instead of by every view of the page. A system with
    nothing to count has no row."""

    system = models.OneToOneField(
        "catalog.System",
        to_field="slug",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="figures",
    )
    connections = models.PositiveIntegerField(default=0)
    # Link sessions whose end user chose this system, and those of them that connected.
    sessions_chose = models.PositiveIntegerField(default=0)
    sessions_connected = models.PositiveIntegerField(default=0)
    # Failed attempts of the last 30 days by code, most frequent first:
    # [{"error_code": …, "count": …, "last": ISO time}].
    failures = models.JSONField(default=list)
    counted_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "system figures"

    def __str__(self) -> str:
        return self.system_id
