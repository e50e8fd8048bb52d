"""Onramp settings.

With no environment at all this is the *embedded default*: SQLite, Celery tasks run inline,
a local-memory cache, a local encryption key file, the Sandbox ERP and the demo partner page.
Production sets ``DEBUG=0`` and the variables in the README's configuration table.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.lanes import declared_queues, route_task

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
ONRAMP_DATA_DIR = Path(env.str("ONRAMP_DATA_DIR", default=str(BASE_DIR / "var")))

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="onramp-embedded-only-not-a-secret")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # required in production

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "catalog",
    "connections",
]

MIDDLEWARE = [
    # First, so every answer (an outage's 503 too) names its request: X-Request-Id.
    "connections.http.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "connections.http.middleware.RequestBodyLimitMiddleware",
    "connections.http.middleware.ContentSecurityPolicyMiddleware",
    "connections.http.outages.OutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files come precompressed), before anything that writes a body:
    # gzip for HTML, with BREACH considered per response (connections/http/compression.py).
    "connections.http.compression.HtmlCompressionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "connections.http.middleware.csp_nonce",
            ],
        },
    },
]

if "DATABASE_URL" not in env:
    ONRAMP_DATA_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default's SQLite file
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{ONRAMP_DATA_DIR / 'onramp.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Threads write at once (a submit beside draft autosaves). WAL: readers never wait for the
    # writer. IMMEDIATE: a transaction takes the write lock when it begins, so it waits for it
    # (up to the timeout) instead of failing at once when a deferred one tries to write.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    } | DATABASES["default"].get("OPTIONS", {})
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if not DEBUG else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Redis is shared by every process; when it cannot be reached the app degrades (config/cache.py):
# ``default`` falls back to each process's memory, ``tokens`` (the token cache) to the database.
_CACHE_TIMEOUT = env.float("ONRAMP_CACHE_TIMEOUT", default=1.0)  # seconds per Redis operation
if REDIS_URL:
    _REDIS = {
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("ONRAMP_CACHE_PREFIX", default="onramp"),
        "OPTIONS": {"socket_connect_timeout": _CACHE_TIMEOUT, "socket_timeout": _CACHE_TIMEOUT},
    }
    CACHES = {
        "default": {"BACKEND": "config.cache.DegradingRedisCache", **_REDIS},
        "tokens": {"BACKEND": "config.cache.SharedRedisCache", **_REDIS},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "tokens": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    }

# Celery: a broker means real workers; none means tasks run inline (the embedded default).
# At least once: acks late, a lost worker's message goes back to the queue, and every task
# is idempotent. The Redis visibility timeout (when an unacked message is redelivered) is
# longer than any task but far shorter than Redis's default hour; the attempt sweeper does
# not wait for it anyway.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = 300  # prefork workers: no task runs longer than this
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("ONRAMP_BROKER_VISIBILITY_TIMEOUT", default=600),
    # A web request that cannot reach the broker gives up fast; the sweeper sends later.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_DEFAULT_QUEUE = env.str("ONRAMP_TASK_QUEUE", default="celery")
# Lanes (config/lanes.py): webhook deliveries and scheduled work have queues of their own.
CELERY_TASK_ROUTES = (route_task,)
CELERY_TASK_QUEUES = declared_queues(CELERY_TASK_DEFAULT_QUEUE)

# Validation attempts reach a final state within ONRAMP_ATTEMPT_TIMEOUT: a run holds a lease
# of a third of it; a run whose lease lapses (worker killed) is re-run once by the sweeper.
ONRAMP_ATTEMPT_TIMEOUT = env.int("ONRAMP_ATTEMPT_TIMEOUT", default=120)
ONRAMP_SWEEP_INTERVAL = env.float("ONRAMP_SWEEP_INTERVAL", default=10.0)
# Health checks: every active connection is revalidated this often (seconds, with jitter);
# network-class failures make it invalid only after this many in a row.
ONRAMP_HEALTHCHECK_INTERVAL = env.int("ONRAMP_HEALTHCHECK_INTERVAL", default=24 * 3600)
ONRAMP_HEALTHCHECK_TOLERANCE = env.int("ONRAMP_HEALTHCHECK_TOLERANCE", default=3)
# A refused sign-in in a check Onramp started itself is checked once more this much later
# (seconds) before the connection is made invalid.
ONRAMP_CREDENTIAL_RECHECK_DELAY = env.int("ONRAMP_CREDENTIAL_RECHECK_DELAY", default=600)
# Webhooks: a receiver answers 2xx within this many seconds, or the try failed; retries wait
# the schedule's seconds after each failed try; then the delivery is failed.
ONRAMP_WEBHOOK_TIMEOUT = env.float("ONRAMP_WEBHOOK_TIMEOUT", default=10.0)
ONRAMP_WEBHOOK_RETRY_SCHEDULE = env.list(
    "ONRAMP_WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
# A worker process sends this many deliveries at once (threads waiting on receivers); across
# all workers one endpoint has at most so many sends in flight, one partner so many over all
# its endpoints (services/webhook_budget.py). A worker process runs at most BATCHES_PER_ENDPOINT
# batches sending to one endpoint at once, and SLOW_BATCHES to endpoints whose sends take
# SLOW_AFTER seconds (keep both below the worker's threads).
ONRAMP_WEBHOOK_SEND_SLOTS = env.int("ONRAMP_WEBHOOK_SEND_SLOTS", default=64)
ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT = env.int("ONRAMP_WEBHOOK_SENDS_PER_ENDPOINT", default=16)
ONRAMP_WEBHOOK_SENDS_PER_PARTNER = env.int("ONRAMP_WEBHOOK_SENDS_PER_PARTNER", default=32)
ONRAMP_WEBHOOK_SLOW_AFTER = env.float("ONRAMP_WEBHOOK_SLOW_AFTER", default=1.0)
ONRAMP_WEBHOOK_SLOW_BATCHES = env.int("ONRAMP_WEBHOOK_SLOW_BATCHES", default=2)
ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT = env.int("ONRAMP_WEBHOOK_BATCHES_PER_ENDPOINT", default=2)
# Admin lists count their rows exactly up to this many; past it they show PostgreSQL's
# estimate ("about 1,000,000"), since an exact count reads every row on every page view.
ONRAMP_ADMIN_EXACT_COUNT_UP_TO = env.int("ONRAMP_ADMIN_EXACT_COUNT_UP_TO", default=10_000)
# The admin's systems page shows figures recounted this often (seconds) by Celery beat.
ONRAMP_SYSTEM_FIGURES_INTERVAL = env.float("ONRAMP_SYSTEM_FIGURES_INTERVAL", default=300.0)
# Syncs (README, *Syncs*): an initial sync reads this many days back; then every connection's
# models are read again about this often (seconds, jittered ±10%), from the newest modified
# time seen minus an overlap (seconds) for the remote's clock and late commits. A running
# sync holds a lease (seconds), renewed every page; a worker handles this many pages, then
# sends the rest of the run as a new task.
ONRAMP_SYNC_HISTORY_DAYS = env.int("ONRAMP_SYNC_HISTORY_DAYS", default=90)
ONRAMP_SYNC_INTERVAL = env.int("ONRAMP_SYNC_INTERVAL", default=15 * 60)
ONRAMP_SYNC_OVERLAP = env.int("ONRAMP_SYNC_OVERLAP", default=300)
ONRAMP_SYNC_LEASE = env.int("ONRAMP_SYNC_LEASE", default=120)
ONRAMP_SYNC_PAGES_PER_TASK = env.int("ONRAMP_SYNC_PAGES_PER_TASK", default=50)
CELERY_BEAT_SCHEDULE = {
    "schedule-syncs": {
        "task": "connections.tasks.schedule_syncs",
        "schedule": env.float("ONRAMP_SYNC_SCHEDULE_INTERVAL", default=60.0),
    },
    "sweep-webhooks": {
        "task": "connections.tasks.sweep_webhooks",
        "schedule": ONRAMP_SWEEP_INTERVAL,
    },
    "sweep-attempts": {
        "task": "connections.tasks.sweep_attempts",
        "schedule": ONRAMP_SWEEP_INTERVAL,
    },
    "sweep-token-cache": {
        "task": "connections.tasks.sweep_token_cache",
        "schedule": ONRAMP_SWEEP_INTERVAL,
    },
    "health-checks": {
        "task": "connections.tasks.schedule_health_checks",
        "schedule": env.float("ONRAMP_HEALTHCHECK_SWEEP_INTERVAL", default=300.0),
    },
    "refresh-oauth-tokens": {"task": "connections.tasks.refresh_oauth_tokens", "schedule": 240.0},
    "sweep-agents": {
        "task": "connections.tasks.sweep_agents",
        "schedule": env.float("ONRAMP_AGENT_GRACE", default=60.0),
    },
    "purge-stale-secrets": {"task": "connections.tasks.purge_stale_secrets", "schedule": 3600.0},
    "count-system-figures": {
        "task": "connections.tasks.count_system_figures",
        "schedule": ONRAMP_SYSTEM_FIGURES_INTERVAL,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Each language named in itself: the flow's language menu shows these names as they are.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# connect.js is loaded by partners' pages on other origins.
WHITENOISE_ALLOW_ALL_ORIGINS = True

# Security headers. X-Frame-Options DENY everywhere except flow pages, which carry
# their own frame-ancestors (connections.http.middleware).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Operators' sessions (the flow uses none) read from the cache, written through to the
# database: a query less on every admin page (issue 17); a cache outage reads the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Every handler drops bearer tokens from what it writes (the flow's URLs carry one).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "connections.http.log_filters.RedactTokens"},
        "request_id": {"()": "connections.http.request_ids.RequestIdFilter"},
    },
    "formatters": {
        "onramp": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_tokens", "request_id"],
            "formatter": "onramp",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own loggers (request errors, runserver's request lines) through our
        # handler, instead of the default ones that would bypass the filter.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Error reports (DEBUG's page too) hide what views and services mark as sensitive.
DEFAULT_EXCEPTION_REPORTER_FILTER = "connections.http.error_reports.SecretsHidden"

# --- Onramp -------------------------------------------------------------------------------

# Where the flow is served; link session URLs are built on it.
ONRAMP_PUBLIC_URL = env.str("ONRAMP_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# Who runs this Onramp, for systems that want a contact named on each call (Fakturoid's
# User-Agent, ``{contact_email}`` in a definition's headers).
ONRAMP_CONTACT_EMAIL = env.str("ONRAMP_CONTACT_EMAIL", default="")

# Encryption key ring: "id:base64key,id:base64key", newest first. The embedded default
# keeps a generated key file in the data directory (outside git).
ONRAMP_ENCRYPTION_KEYS = env.str("ONRAMP_ENCRYPTION_KEYS", default="")
ONRAMP_ENCRYPTION_KEY_FILE = "" if ONRAMP_ENCRYPTION_KEYS else str(ONRAMP_DATA_DIR / "keyring")
if not DEBUG and not ONRAMP_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("ONRAMP_ENCRYPTION_KEYS is required when DEBUG is off.")

# The Sandbox ERP: a simulated remote system served under /sandbox/.
ONRAMP_SANDBOX = env.bool("ONRAMP_SANDBOX", default=DEBUG)
ONRAMP_SANDBOX_DOMAIN = "sandbox-erp.test"
if ONRAMP_SANDBOX:
    ALLOWED_HOSTS.append(f".{ONRAMP_SANDBOX_DOMAIN}")

# Outbound host map: "pattern=target,pattern=target" sends requests for a host to a
# local simulator. Refused in production unless explicitly allowed.
_default_host_map = (
    f"*.{ONRAMP_SANDBOX_DOMAIN}={ONRAMP_PUBLIC_URL}" if DEBUG and ONRAMP_SANDBOX else ""
)
ONRAMP_OUTBOUND_HOST_MAP = env.str("ONRAMP_OUTBOUND_HOST_MAP", default=_default_host_map)
ONRAMP_ALLOW_HOST_MAP = env.bool("ONRAMP_ALLOW_HOST_MAP", default=False)
if ONRAMP_OUTBOUND_HOST_MAP and not DEBUG and not ONRAMP_ALLOW_HOST_MAP:
    raise ImproperlyConfigured(
        "ONRAMP_OUTBOUND_HOST_MAP is refused when DEBUG is off unless ONRAMP_ALLOW_HOST_MAP=1."
    )
ONRAMP_OUTBOUND_CONNECT_TIMEOUT = env.float("ONRAMP_OUTBOUND_CONNECT_TIMEOUT", default=5.0)
ONRAMP_OUTBOUND_READ_TIMEOUT = env.float("ONRAMP_OUTBOUND_READ_TIMEOUT", default=15.0)
ONRAMP_OUTBOUND_DEADLINE = env.float("ONRAMP_OUTBOUND_DEADLINE", default=25.0)
ONRAMP_OUTBOUND_MAX_BYTES = env.int("ONRAMP_OUTBOUND_MAX_BYTES", default=2 * 1024 * 1024)

# Abuse limits (SECURITY.md rule 6).
ONRAMP_SESSION_MAX_FAILURES = env.int("ONRAMP_SESSION_MAX_FAILURES", default=8)
# Live checks running at once for one partner's customers, across all workers (beyond it
# they wait in the partner's own line: services/admission.py).
ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER = env.int(
    "ONRAMP_VALIDATIONS_IN_FLIGHT_PER_PARTNER", default=16
)
ONRAMP_VALIDATIONS_PER_IP_HOUR = env.int("ONRAMP_VALIDATIONS_PER_IP_HOUR", default=60)
ONRAMP_VALIDATIONS_PER_END_USER_MINUTE = env.int(
    "ONRAMP_VALIDATIONS_PER_END_USER_MINUTE", default=6
)
# Per target host and partner; the global ceiling protects the remote system itself.
ONRAMP_VALIDATIONS_PER_HOST_MINUTE = env.int("ONRAMP_VALIDATIONS_PER_HOST_MINUTE", default=30)
ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL = env.int(
    "ONRAMP_VALIDATIONS_PER_HOST_MINUTE_GLOBAL", default=300
)
ONRAMP_REVALIDATIONS_PER_CONNECTION_MINUTE = env.int(
    "ONRAMP_REVALIDATIONS_PER_CONNECTION_MINUTE", default=1
)
ONRAMP_KEY_GENERATIONS_PER_SESSION_MINUTE = env.int(
    "ONRAMP_KEY_GENERATIONS_PER_SESSION_MINUTE", default=2
)
ONRAMP_SIGN_INS_PER_SESSION_MINUTE = env.int("ONRAMP_SIGN_INS_PER_SESSION_MINUTE", default=10)
ONRAMP_KEY_UPLOADS_PER_SESSION_MINUTE = env.int(
    "ONRAMP_KEY_UPLOADS_PER_SESSION_MINUTE", default=10
)
# Work factors an uploaded, passphrase-protected private key may ask of us.
ONRAMP_KDF_MAX_PBKDF2_ITERATIONS = env.int("ONRAMP_KDF_MAX_PBKDF2_ITERATIONS", default=1_000_000)
# scrypt, each factor capped on its own (memory is 128·N·r bytes, time grows with N·r·p): at
# most 32 MiB and about 0.1 s. OpenSSL's `pkcs8 -scrypt` writes N=2**14, r=8, p=1.
ONRAMP_KDF_MAX_SCRYPT_N = env.int("ONRAMP_KDF_MAX_SCRYPT_N", default=2**15)
ONRAMP_KDF_MAX_SCRYPT_R = env.int("ONRAMP_KDF_MAX_SCRYPT_R", default=8)
ONRAMP_KDF_MAX_SCRYPT_P = env.int("ONRAMP_KDF_MAX_SCRYPT_P", default=1)
ONRAMP_ADMIN_LOGIN_FAILURES = env.int("ONRAMP_ADMIN_LOGIN_FAILURES", default=5)
# Proxies in front of Onramp whose X-Forwarded-For is believed: a hop count or networks.
ONRAMP_TRUSTED_PROXIES = env.str("ONRAMP_TRUSTED_PROXIES", default="")
# Request bodies are refused (413) from their Content-Length before they are read.
ONRAMP_MAX_REQUEST_BYTES = env.int("ONRAMP_MAX_REQUEST_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ONRAMP_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024  # uploads this small never touch the disk
# The passthrough proxy (/api/v1/proxy/…): body caps each way, and calls per connection.
ONRAMP_PROXY_MAX_REQUEST_BYTES = env.int("ONRAMP_PROXY_MAX_REQUEST_BYTES", default=10 * 1024**2)
ONRAMP_PROXY_MAX_RESPONSE_BYTES = env.int("ONRAMP_PROXY_MAX_RESPONSE_BYTES", default=10 * 1024**2)
# A process whose catalog index is out of date keeps searching the old one while a thread
# builds the new one (the process that made the change rebuilds at once).
ONRAMP_CATALOG_REBUILD_BEHIND = env.bool("ONRAMP_CATALOG_REBUILD_BEHIND", default=True)
ONRAMP_PROXY_REQUESTS_PER_MINUTE = env.int("ONRAMP_PROXY_REQUESTS_PER_MINUTE", default=600)
# Proxied calls in flight at once, across every process: per connection, and per remote host.
ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION = env.int("ONRAMP_PROXY_IN_FLIGHT_PER_CONNECTION", default=4)
ONRAMP_PROXY_IN_FLIGHT_PER_HOST = env.int("ONRAMP_PROXY_IN_FLIGHT_PER_HOST", default=16)
ONRAMP_PROXY_IN_FLIGHT_PER_PARTNER = env.int("ONRAMP_PROXY_IN_FLIGHT_PER_PARTNER", default=24)
# A proxied call the remote refuses (401) brings the connection's health check forward to
# at most this many seconds away (never sooner: the partner may be retrying in a loop) ...
ONRAMP_PROXY_RECHECK_DELAY = env.int("ONRAMP_PROXY_RECHECK_DELAY", default=300)
# ... and after this many refusals within ONRAMP_PROXY_AUTH_PAUSE seconds, proxied calls stop
# signing in again until the pause ends (repeated failed sign-ins can lock the customer's user).
ONRAMP_PROXY_AUTH_REFUSALS = env.int("ONRAMP_PROXY_AUTH_REFUSALS", default=3)
ONRAMP_PROXY_AUTH_PAUSE = env.int("ONRAMP_PROXY_AUTH_PAUSE", default=300)
# Partner origins and redirect URLs may be plain http only on localhost, and only then.
ONRAMP_ALLOW_HTTP_LOCALHOST = env.bool("ONRAMP_ALLOW_HTTP_LOCALHOST", default=DEBUG)
# Development: test keys' webhook endpoints may be on this machine (http://localhost:4000/…).
# It lets a key make Onramp call local ports, so production refuses it (and check --deploy).
ONRAMP_ALLOW_LOCAL_WEBHOOKS = env.bool("ONRAMP_ALLOW_LOCAL_WEBHOOKS", default=DEBUG)
if ONRAMP_ALLOW_LOCAL_WEBHOOKS and not DEBUG:
    raise ImproperlyConfigured(
        "ONRAMP_ALLOW_LOCAL_WEBHOOKS is for development: refused with DEBUG off."
    )

# The demo partner page (/demo/) exists only in the embedded default.
ONRAMP_DEMO = env.bool("ONRAMP_DEMO", default=DEBUG)

# On-premises agents (connections/agents, README "On-premises systems"). The hub
# (``manage.py run_agent_hub``) takes agents' connections on ONRAMP_AGENT_HUB_LISTEN (behind the
# load balancer that serves ONRAMP_AGENT_HUB_URL to agents, /agent/v1/control and /streams) and
# Onramp's own calls on ONRAMP_AGENT_PROXY_LISTEN, an internal address no agent can reach.
ONRAMP_AGENT_HUB_URL = env.str("ONRAMP_AGENT_HUB_URL", default=ONRAMP_PUBLIC_URL).rstrip("/")
ONRAMP_AGENT_HUB_LISTEN = env.str("ONRAMP_AGENT_HUB_LISTEN", default="127.0.0.1:8700")
ONRAMP_AGENT_PROXY_LISTEN = env.str("ONRAMP_AGENT_PROXY_LISTEN", default="127.0.0.1:8701")
ONRAMP_AGENT_PAIRING_TTL = env.int("ONRAMP_AGENT_PAIRING_TTL", default=600)  # seconds
# An agent whose control connection is gone this long makes its connections agent_offline.
ONRAMP_AGENT_GRACE = env.float("ONRAMP_AGENT_GRACE", default=60.0)
ONRAMP_AGENT_HEARTBEAT = env.float("ONRAMP_AGENT_HEARTBEAT", default=15.0)
