"""Stepwise settings, read from the environment only (twelve-factor).

Without DATABASE_URL and REDIS_URL Stepwise runs on its embedded default: SQLite in WAL mode,
an in-memory Celery broker and channel layer, and a local-memory cache. Setting them switches
the same code to PostgreSQL and Redis.
"""

from ipaddress import ip_network
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_float, env_int, env_list, env_str, persistent_secret_key

# Lets ModelAdmin[Model] and QuerySet[Model] be subscripted at run time, as mypy sees them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STEPWISE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY a key kept beside the SQLite file is used, so sessions survive restarts.
# Production sets SECRET_KEY, the same on every machine.
SECRET_KEY = env_str("SECRET_KEY") or persistent_secret_key(VAR_DIR / "secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "accounts",
    "engine",
    "designer",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.api_text.UnstorableTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PagesNeedLoginAndRoleMiddleware",
    "accounts.login_throttle.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monitoring.context_processors.open_tasks",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# The engine's hot statements are prepared once per connection (engine.models.prepared); off
# for a pooler in transaction mode that cannot keep a session's prepared statements.
STEPWISE_PREPARED_STATEMENTS = env_bool("STEPWISE_PREPARED_STATEMENTS", True)
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if STEPWISE_PREPARED_STATEMENTS and "postgresql" in DATABASES["default"]["ENGINE"]:
        # Only the engine's hot statements are bound on the server (engine.models.prepared);
        # psycopg prepares one after this many uses on a connection. The ORM's client-side
        # cursors never prepare, whatever this says.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "stepwise.sqlite3"),
            # IMMEDIATE transactions and WAL keep concurrent writers (web, worker and timer
            # threads) from failing with "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, channel layer, cache ----------------------------------------------
REDIS_URL = env_str("REDIS_URL")
STEPWISE_QUEUE = env_str("STEPWISE_QUEUE", "stepwise")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A consumer blocks on Redis for 5 s at a time (BZPOPMIN); redis-py's default
                # 5 s socket timeout would cut that read and close every idle WebSocket.
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}
                ],
                "prefix": env_str("STEPWISE_CHANNEL_PREFIX", "stepwise"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": STEPWISE_QUEUE,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The memory transport lives inside one process: only the embedded worker can read it.
    # Its default one-second poll would make every task wait a second.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.01}

# Celery only carries "do this now" messages; PostgreSQL is the source of truth, so no result
# backend. Late acks plus idempotent tasks give at-least-once delivery that survives a crash.
CELERY_TASK_DEFAULT_QUEUE = STEPWISE_QUEUE
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection after every task unless told to reuse
# it: a new connection per "advance this run" costs more than the steps themselves.
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- Engine processes ------------------------------------------------------------------------
STEPWISE_HEARTBEAT_SECONDS = env_float("STEPWISE_HEARTBEAT_SECONDS", 5.0)
STEPWISE_TIMER_INTERVAL_SECONDS = env_float("STEPWISE_TIMER_INTERVAL_SECONDS", 0.5)
# An advancing worker holds a run for this long, renewed as it goes; a crashed worker's runs
# are picked up again once it lapses.
STEPWISE_LEASE_SECONDS = env_float("STEPWISE_LEASE_SECONDS", 30.0)
# Opt-in: a step's own commit does not wait for PostgreSQL to flush its journal to disk
# (synchronous_commit off for that statement). A worker crash loses nothing; a PostgreSQL crash
# may lose the last few hundred milliseconds of steps, which run again (engine.runtime.fence).
STEPWISE_ASYNC_STEP_COMMITS = env_bool("STEPWISE_ASYNC_STEP_COMMITS", False)
# A runnable run whose "advance" message seems lost is sent again after this long.
STEPWISE_REDISPATCH_SECONDS = env_float("STEPWISE_REDISPATCH_SECONDS", 15.0)
# Bulkheads (engine.resilience.bulkheads): the limit of one first used without a declared
# limit, and how long a woken waiter keeps the slot handed to it before its step starts.
STEPWISE_BULKHEAD_DEFAULT_MAX = env_int("STEPWISE_BULKHEAD_DEFAULT_MAX", 10)
STEPWISE_BULKHEAD_GRANT_SECONDS = env_float("STEPWISE_BULKHEAD_GRANT_SECONDS", 60.0)
# A parallel step whose message seems lost is sent again after this long (it may run twice).
STEPWISE_BRANCH_REDISPATCH_SECONDS = env_float("STEPWISE_BRANCH_REDISPATCH_SECONDS", 300.0)
# Where circuit breakers and rate limits keep the state every worker shares: "redis" or
# "database"; unset, Redis when REDIS_URL is set, else the database (engine.resilience.state).
STEPWISE_RESILIENCE_STATE = env_str("STEPWISE_RESILIENCE_STATE")
# Workers read the admin's breaker and rate-limit definitions at most this often.
STEPWISE_RESILIENCE_DEFINITIONS_SECONDS = env_float("STEPWISE_RESILIENCE_DEFINITIONS_SECONDS", 5.0)
# Modules of code workflows to import at start, besides each app's workflows.py.
STEPWISE_WORKFLOW_MODULES = env_list("STEPWISE_WORKFLOW_MODULES", ["engine.demos"])
# A schedule's fire that the timer loop reaches later than this counts as missed, and the
# schedule's catch-up policy decides whether it still runs.
STEPWISE_SCHEDULE_GRACE_SECONDS = env_float("STEPWISE_SCHEDULE_GRACE_SECONDS", 60.0)
# An event emitted by a run that an event started is one link further down a chain; events
# deeper than this start no workflows (they still wake waiting runs), so a workflow that
# triggers itself ends instead of running forever.
STEPWISE_EVENT_CHAIN_LIMIT = env_int("STEPWISE_EVENT_CHAIN_LIMIT", 20)
# Limits on runaway work (engine.runtime.limits): how deep children of children may nest
# (detached ones too), how many children one run may start, and how many runs a workflow may
# start in any minute (0: no limit). A refusal fails the run that asked, naming the setting.
STEPWISE_MAX_CHILD_DEPTH = env_int("STEPWISE_MAX_CHILD_DEPTH", 10)
STEPWISE_MAX_CHILDREN_PER_RUN = env_int("STEPWISE_MAX_CHILDREN_PER_RUN", 1000)
STEPWISE_MAX_RUNS_PER_MINUTE = env_int("STEPWISE_MAX_RUNS_PER_MINUTE", 600)
# Publish engine changes to Channels groups so open pages update live (monitoring.live).
# Ended runs are deleted with their journal after this many days (0: kept for ever);
# per workflow: STEPWISE_RETENTION_OVERRIDES="invoice-approval=365,nightly-sync=7".
STEPWISE_RETENTION_DAYS = env_int("STEPWISE_RETENTION_DAYS", 30)
STEPWISE_RETENTION_OVERRIDES = env_list("STEPWISE_RETENTION_OVERRIDES", [])
# When set, the timer loop writes each pruned batch to <dir>/runs-<date>.jsonl first.
STEPWISE_RETENTION_EXPORT_DIR = env_str("STEPWISE_RETENTION_EXPORT_DIR", "")
STEPWISE_RETENTION_SWEEP_SECONDS = env_float("STEPWISE_RETENTION_SWEEP_SECONDS", 300.0)
# A step attempt's input (a node's rendered config, a code step's arguments) kept for the step
# panel: larger ones keep their first bytes and their full size.
STEPWISE_STEP_INPUT_BYTES = env_int("STEPWISE_STEP_INPUT_BYTES", 16_384)
STEPWISE_LIVE_UPDATES = env_bool("STEPWISE_LIVE_UPDATES", True)
# OpenTelemetry spans for runs and steps: "otlp" (OTEL_EXPORTER_OTLP_* say where) or "console".
STEPWISE_OTEL_EXPORTER = env_str("STEPWISE_OTEL_EXPORTER", "")
# /health calls a worker or the timer loop stale after this long without a heartbeat.
STEPWISE_STALE_AFTER_SECONDS = env_float("STEPWISE_STALE_AFTER_SECONDS", 30.0)
# GET /metrics (Prometheus) answers a request with `Authorization: Bearer <this token>`, or from
# an address in the allow-list (IP addresses or CIDR networks); everyone else is refused.
STEPWISE_METRICS_TOKEN = env_str("STEPWISE_METRICS_TOKEN", "")
STEPWISE_METRICS_ALLOW = env_list("STEPWISE_METRICS_ALLOW", [])
try:
    STEPWISE_METRICS_NETWORKS = [ip_network(item, strict=False) for item in STEPWISE_METRICS_ALLOW]
except ValueError as wrong:
    raise ImproperlyConfigured(f"STEPWISE_METRICS_ALLOW: {wrong}") from None

# --- Action nodes: HTTP, email, AI -----------------------------------------------------------
# HTTP nodes may call private, loopback and link-local addresses only when listed here: host
# names, *.suffix, IP addresses or CIDR networks, each optionally with :port (IPv6 as [::1]:80).
STEPWISE_HTTP_ALLOWLIST = env_list("STEPWISE_HTTP_ALLOWLIST", [])

# Email goes through Django's default mailer, built from the EMAIL_* variables (Django 6.1
# replaced the EMAIL_* settings with MAILERS; the variables keep their familiar names). Without
# EMAIL_HOST and EMAIL_BACKEND the console backend prints each message to the worker's log:
# nothing leaves the machine by surprise and nothing fails in the embedded default.
_email_host = env_str("EMAIL_HOST")
_email_backend = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if _email_host
    else "django.core.mail.backends.console.EmailBackend"
)
_email_options: dict[str, object] = {}
if _email_backend == "django.core.mail.backends.smtp.EmailBackend":
    _email_port = int(env_float("EMAIL_PORT", 0))
    _email_options = {
        "host": _email_host or "localhost",
        # None picks 465 with EMAIL_USE_SSL, 587 with EMAIL_USE_TLS, else 25.
        "port": _email_port or None,
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        # Without a timeout a silent SMTP server would hold a step forever.
        "timeout": env_float("EMAIL_TIMEOUT", 30.0),
    }
elif _email_backend == "django.core.mail.backends.filebased.EmailBackend":
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "stepwise@localhost")
# Task e-mails are sent by workers, which have no request to learn the site's address from.
STEPWISE_BASE_URL = env_str("STEPWISE_BASE_URL", "http://127.0.0.1:8000")
# Whom the 403 page tells people to ask for a role; the active superusers when empty.
STEPWISE_ADMIN_CONTACT = env_str("STEPWISE_ADMIN_CONTACT", "")
CSRF_FAILURE_VIEW = "accounts.errors.csrf_failure"
# One-click decision links in task e-mails work this long (checked when used, so shortening it
# also shortens links already sent); 0 sends none and refuses those sent before.
STEPWISE_DECISION_LINK_MAX_AGE_SECONDS = env_int(
    "STEPWISE_DECISION_LINK_MAX_AGE_SECONDS", 7 * 24 * 3600
)

# AI nodes talk to an OpenAI-compatible chat completions endpoint, e.g. https://api.openai.com/v1.
STEPWISE_AI_BASE_URL = env_str("STEPWISE_AI_BASE_URL", "")
STEPWISE_AI_MODEL = env_str("STEPWISE_AI_MODEL", "")
# The name of the environment variable holding the API key: the key itself never enters
# settings (which debug pages and `diffsettings` show), only the worker reads it, per call.
STEPWISE_AI_API_KEY_ENV = env_str("STEPWISE_AI_API_KEY_ENV", "STEPWISE_AI_API_KEY")
# A model's answer larger than this fails the step instead of filling a worker's memory.
STEPWISE_AI_MAX_RESPONSE_BYTES = env_int("STEPWISE_AI_MAX_RESPONSE_BYTES", 5_000_000)

# --- Auth ------------------------------------------------------------------------------------
# `load_demo` (run by `make run`) creates demo users with published passwords only in a fresh
# embedded database; this asks for them anywhere else.
STEPWISE_DEMO = env_bool("STEPWISE_DEMO", False)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A personal API token stops working this many days after it is created unless its creator
# chose another date; 0 lets tokens without a date work until revoked.
STEPWISE_API_TOKEN_DAYS = env_int("STEPWISE_API_TOKEN_DAYS", 90)
# After this many failed logins for one username, or from one address (an office behind one
# NAT shares it), within the window, the login pages refuse until the window ends.
STEPWISE_LOGIN_FAILURE_LIMIT = env_int("STEPWISE_LOGIN_FAILURE_LIMIT", 5)
STEPWISE_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("STEPWISE_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20)
STEPWISE_LOGIN_FAILURE_WINDOW_SECONDS = env_int("STEPWISE_LOGIN_FAILURE_WINDOW_SECONDS", 900)
SESSION_COOKIE_HTTPONLY = True
# Every request body larger than this is refused with 413 before it is buffered
# (config/body_limit.py); the default is the largest limit a webhook endpoint may have.
STEPWISE_MAX_BODY_BYTES = env_int("STEPWISE_MAX_BODY_BYTES", 10_000_000)
# Django's own cap on the body it reads into memory (request.body, a form's fields) is the same
# number: left at its 2.5 MB default it refused bodies the documented limit accepts with a bare
# 400. It still guards a server that runs without config/body_limit.py in front; its refusal
# is the same 413 naming `body` (accounts.errors.bad_request).
DATA_UPLOAD_MAX_MEMORY_SIZE = STEPWISE_MAX_BODY_BYTES
# Parsing a form costs per field, whatever the bytes: a 10 MB form of a million tiny fields
# would take far more memory than its size. No page of ours needs near these (a bulk action
# takes at most 500 runs), so Django's defaults stay, and a form over them is a 400 naming
# `body` that says which limit it passed. FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is not a limit:
# it is where a body (and an upload) is spooled to a temporary file instead of kept in memory.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100
# No script of ours reads the CSRF cookie: pages carry the token in forms and the canvas's boot
# data, so an injected script cannot read it either.
CSRF_COOKIE_HTTPONLY = True

# --- Security headers ------------------------------------------------------------------------
# The canvas is a static bundle and page data arrives through json_script, so scripts and
# styles need no 'unsafe-inline' and nothing loads from another origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"

# --- HTTPS -----------------------------------------------------------------------------------
# A proxy or load balancer in front of the web processes terminates TLS and says so in
# X-Forwarded-Proto. Trusted only when set: otherwise any client could claim HTTPS.
STEPWISE_BEHIND_TLS_PROXY = env_bool("STEPWISE_BEHIND_TLS_PROXY", False)
if STEPWISE_BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Browsers reach Stepwise over HTTPS: cookies are Secure, plain HTTP is redirected and HSTS tells
# browsers never to try it again. Production says so with an https STEPWISE_BASE_URL (which task
# mails need anyway) or a TLS proxy. The embedded default at http://127.0.0.1 keeps plain HTTP,
# where a redirect would make it unreachable and some browsers refuse Secure cookies.
STEPWISE_HTTPS = env_bool(
    "STEPWISE_HTTPS",
    not DEBUG and (STEPWISE_BASE_URL.startswith("https://") or STEPWISE_BEHIND_TLS_PROXY),
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = STEPWISE_HTTPS
# Load balancers and orchestrators often ask /health over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env_int("STEPWISE_HSTS_SECONDS", 365 * 24 * 3600) if STEPWISE_HTTPS else 0
# Covers the hosts below the one serving Stepwise; turn it off when Stepwise is served at a
# domain some of whose subdomains still need plain HTTP.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("STEPWISE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("STEPWISE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    # The HSTS preload list is a commitment of the whole registered domain, hard to undo and
    # for its owner to make; Stepwise cannot make it for them (STEPWISE_HSTS_PRELOAD opts in).
    "security.W021",
]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serving straight from the source folders keeps `make run` free of a collectstatic step;
# production runs collectstatic and turns this off for hashed, compressed files.
WHITENOISE_USE_FINDERS = env_bool("STEPWISE_STATIC_FROM_SOURCES", True)
WHITENOISE_AUTOREFRESH = DEBUG
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT = Path(env_str("STATIC_ROOT")) if env_str("STATIC_ROOT") else None
else:
    STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"one_line_4xx": {"()": "config.log_filters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_4xx"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        "django.request": {"filters": ["one_line_4xx"]},
    },
}
