"""Gatehouse settings, read from the environment with django-environ.

Defaults run the product on an embedded SQLite file; production sets DATABASE_URL,
SECRET_KEY, FIELD_ENCRYPTION_KEYS and ALLOWED_HOSTS (see config/production.py).
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

from config.checks import DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Both defaults are public, for development only: `check --deploy` and config.production refuse them.
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Comma-separated Fernet keys, newest first.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_FIELD_ENCRYPTION_KEY])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_object_actions",
    "django_q",
    "clients",
    "packages",
    "accessctl",
    "integrations",
    "integrations.glofox",
    "integrations.gladstone",
    "integrations.momence",
    "staff",
    "portal",
    "axes",
    "config.apps.GatehouseConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.AdminQueryGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.admin_login.KnownDeviceMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# django-axes watches every password login (the admin's, which staff pages use too).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The admin login's lockout (django-axes; config.admin_login has the callables). Failures
# are counted per username and, separately, per address (the address as the API
# throttles see it, NUM_PROXIES); at the limit both are refused with 429 for the cool-off.
# A browser holding the signed device cookie of an earlier login of that username is
# limited only by its own failures from its address. A manager unlocks someone with
# `manage.py axes_reset_username NAME` or Access attempts in the admin.
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "config.admin_login.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "config.admin_login.client_ip"
AXES_LOCKOUT_CALLABLE = "config.admin_login.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# A success clears that username's failures from that address only (config.admin_login):
# axes' own reset would clear every failure from the address.
AXES_RESET_ON_SUCCESS = False
# Refused attempts during a lockout do not extend it: it ends one cool-off after it began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False  # no start-up banner in every manage.py command
ADMIN_DEVICE_COOKIE_NAME = "gatehouse_device"
ADMIN_DEVICE_COOKIE_DAYS = env.int("ADMIN_DEVICE_COOKIE_DAYS", default=180)

ROOT_URLCONF = "config.urls"

# The session cookie (staff and the member portal): never readable by scripts, sent on
# same-site requests and top-level navigations only; Secure in config.production.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The member portal (/portal/): the origins allowed to frame it (CSP frame-ancestors; none
# by default, and then X-Frame-Options DENY too). With SameSite=Lax cookies a framing page
# must be on the club's own site (e.g. https://www.club.example framing portal.club.example).
PORTAL_FRAME_ORIGINS = env.list("PORTAL_FRAME_ORIGINS", default=[])
# How long a browser keeps its portal device cookie (the login defences' known-device key).
PORTAL_DEVICE_COOKIE_DAYS = env.int("PORTAL_DEVICE_COOKIE_DAYS", default=180)

# The JSON API and webhooks read no body larger than this (413 with a clear message).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# ... nor JSON nested deeper than this (400): config.json_input reads every JSON body.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'gatehouse.sqlite3'}")
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL, a busy timeout and IMMEDIATE transactions let the web process and the task
    # worker share the file: a write transaction waits for the lock instead of failing
    # with "database is locked" when it upgrades from a read.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    (BASE_DIR / "var").mkdir(exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# Times to the second everywhere the admin shows one (a sync run lasts seconds).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gatehouse@localhost")

# Change-page buttons act, so they are POST forms with CSRF (never links).
DJANGO_OBJECT_ACTIONS_DEFAULT_HTTP_METHOD = "POST"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API speaks JSON only, in and out (no browsable API, no form bodies).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.json_input.BoundedJSONParser"],
    # Proxies in front of us that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR
    # (an unset value would let a client pick its own IP and dodge the per-IP throttles).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env.str("THROTTLE_LOGIN_IP", default="30/min"),
        "member_token": env.str("THROTTLE_MEMBER_TOKEN", default="30/min"),
        "token_refresh": env.str("THROTTLE_TOKEN_REFRESH", default="60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gatehouse API",
    "DESCRIPTION": "Member app, doors and vendor webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ serves Swagger UI from the drf-spectacular-sidecar package, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Shared by every process (DRF throttle counts): Redis when REDIS_URL is set, else a
# database table (created by migrate, see clients.apps).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.str("REDIS_URL")}
        if env.str("REDIS_URL", default="") else
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "gatehouse_cache"}
    )
}

# The member app's tokens and login defences (clients.tokens, clients.lockout).
MEMBER_ACCESS_TOKEN_MINUTES = env.int("MEMBER_ACCESS_TOKEN_MINUTES", default=15)
MEMBER_REFRESH_TOKEN_DAYS = env.int("MEMBER_REFRESH_TOKEN_DAYS", default=30)
# Each member system a login asks gets this long (they are asked at the same time).
MEMBER_LOGIN_VENDOR_SECONDS = env.float("MEMBER_LOGIN_VENDOR_SECONDS", default=4.0)
# Retry-After of the 503 a login gets when no member system could answer.
MEMBER_LOGIN_UNAVAILABLE_SECONDS = env.int("MEMBER_LOGIN_UNAVAILABLE_SECONDS", default=30)
# A refresh token presented again this soon after its rotation gets the same new pair.
MEMBER_REFRESH_GRACE_SECONDS = env.int("MEMBER_REFRESH_GRACE_SECONDS", default=10)
MEMBER_LOCKOUT = {
    "window_minutes": 60,  # failures older than this are forgotten
    "pair_failures": 5,  # from one IP for one identifier, then that pair is locked...
    "pair_lock_minutes": 15,  # ...for this long (the member elsewhere is unaffected)
    "identifier_failures": 10,  # from anywhere, then each failure delays the identifier...
    "identifier_base_seconds": 2,  # ...2 s, 4 s, 8 s ...
    "identifier_max_seconds": 300,  # ...never more than 5 minutes
    "trusted_days": 30,  # an IP that logged in skips the identifier's delay, a device every limit
    "device_failures": 5,  # wrong passwords from a trusted device before it stops being trusted
}

# django-import-export: dry runs and imports in one transaction, so a bad row imports
# nothing; dedicated import and export permissions (a role that may view clients need not
# download them all). Formulae are escaped on export by our resources
# (clients.resources.formula_escape): the library's own switch strips only "=" and
# turns empty cells into "None".
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# django-q2: the database is the broker unless REDIS_URL is set. retry > timeout so a
# slow task is never started twice; failed tasks are not retried blindly.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "gatehouse",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=720),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=1),
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Housekeeping (integrations.housekeeping, daily): processed webhook events and finished
# sync runs older than this many days are deleted.
RECORDS_KEEP_DAYS = env.int("RECORDS_KEEP_DAYS", default=30)
# A webhook event whose own signed time is older than this is refused (400), so a replay
# cannot outlive its dedupe record: housekeeping keeps events at least this long.
WEBHOOK_MAX_AGE_HOURS = env.int("WEBHOOK_MAX_AGE_HOURS", default=24)

# A sync run's claim lasts this long without committing a page; a worker that dies
# frees its syncs when it runs out (integrations.sync.claim).
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=600)

# A sync that makes one vendor call per record (integrations.fetching) makes them in up to
# this many processes, each with at least VENDOR_CALLS_PER_PROCESS of a run's calls: the
# HTTP client's CPU, not the vendor, bounds such a run, and one process uses one core. 1
# keeps every call in the worker's own process.
VENDOR_CALL_PROCESSES = env.int("VENDOR_CALL_PROCESSES", default=min(4, os.cpu_count() or 1))
VENDOR_CALLS_PER_PROCESS = env.int("VENDOR_CALLS_PER_PROCESS", default=1000)

# A delivery to a vendor (integrations.outbox) that failed this often is given up
# (a vendor may give up sooner, e.g. Momence after 5).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)

# Operations (docs/operations.md). Readiness (/readyz, integrations.health): a worker
# heartbeat (a task every minute) younger than this, and no schedule later than its
# interval plus this margin.
HEALTH_WORKER_MAX_AGE_SECONDS = env.int("HEALTH_WORKER_MAX_AGE_SECONDS", default=180)
HEALTH_SCHEDULE_MARGIN_MINUTES = env.int("HEALTH_SCHEDULE_MARGIN_MINUTES", default=5)
# Alerts (integrations.alerts): who is told when the service is not ready, or an
# integration without its own notification e-mails breaks; and the defaults of the
# per-integration thresholds.
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
ALERT_AFTER_FAILURES = env.int("ALERT_AFTER_FAILURES", default=3)
ALERT_LAG_MINUTES = env.int("ALERT_LAG_MINUTES", default=60)
# /metrics (integrations.probes) answers a Bearer token or an address listed here; nobody
# when both are empty.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# Probes and scrapes reach the app directly over plain HTTP: never redirect them to
# https (config.production's SECURE_SSL_REDIRECT), a redirect would pass for healthy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Door hardware is reached through named backends, loaded with import_string.
ACCESS_DOOR_BACKENDS: dict[str, str] = {"kisi": "integrations.kisi.doors.KisiDoors"}

# LOG_FORMAT=json: one JSON object a line, with integration, sync, run and outcome fields
# where known (config.logs); plain text otherwise. LOG_LEVEL=DEBUG shows every vendor call.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "filters": {"context": {"()": "config.logs.ContextFilter"},
                "webhook_tokens": {"()": "config.logs.WebhookTokenFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context", "webhook_tokens"],
                             "formatter": "json" if LOG_FORMAT == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # urllib3 logs full URLs at DEBUG; vendor calls are logged once, redacted, by
    # integrations.http instead.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures and lockouts (names and addresses masked), not every step
        # Refused and served requests are logged with their path: a webhook address's token is masked.
        "django.request": {"filters": ["webhook_tokens"]},
        "django.server": {"filters": ["webhook_tokens"]},
    },
}

# The connectors Settings > Integrations offers, by dotted path (one per vendor).
INTEGRATION_CONNECTORS: list[str] = env.list("INTEGRATION_CONNECTORS", default=[
    "integrations.kisi.connector.KisiConnector",
    "integrations.gladstone.connector.GladstoneConnector",
    "integrations.perfectgym.connector.PerfectGymConnector",
    "integrations.momence.connector.MomenceConnector",
    "integrations.glofox.connector.GlofoxConnector",
    "integrations.example.connector.ExampleConnector",  # the template to copy; hidden below
])
# Whether Settings > Integrations offers hidden connectors (the example vendor) when adding
# one; DEBUG always does.
INTEGRATION_SHOW_HIDDEN = env.bool("INTEGRATION_SHOW_HIDDEN", default=False)

# Whether an integration's Base URL may be http:// (its secrets then cross the network in
# clear): on here for the sandboxes at http://127.0.0.1, off in config.production.
INTEGRATION_ALLOW_HTTP = env.bool("INTEGRATION_ALLOW_HTTP", default=True)
