"""ClosedLoop settings, read from the environment.

Embedded defaults (no variable set): SQLite under var/, Celery on an SQLite broker file,
console e-mail. Production: see config/settings_production.py and docs/deployment.md.
"""

import os
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from .sso import ldap_settings, oidc_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLOSEDLOOP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_number(name: str, default: str, *, minimum: float = 0) -> Decimal:
    """A number from the environment; a bad value stops the start with its name."""
    raw = os.environ.get(name, default).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not value.is_finite() or value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r}: give a number of at least {minimum}.")
    return value


# Development default only; config/settings_production.py refuses to start without one.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, so /api/docs/ works with no internet
    "django_htmx",
    "import_export",
    # API tokens are core.ApiToken, built on this library's abstract key (core/tokens.py says
    # why); its own unused APIKey table comes with the app and is kept out of the admin.
    "rest_framework_api_key",
    "core.library_apps.AxesConfig",  # django-axes: login lockout after repeated failures (docs/security.md)
    # Field-level audit history (core/history.py, docs/audit.md). django-simple-history
    # rather than django-pghistory: pghistory's triggers need PostgreSQL, and the embedded
    # default and the tests run on SQLite; simple-history works from model signals on both.
    "simple_history",
    "core",
    "resources",
    "planning",
    "execution",
    "quality",
    "costing",
    "devices",
    "integration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app itself under gunicorn (no separate file server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's session middleware that also hands the user read with the session to the
    # authentication backend (core/sessions.py: session, user and roles in one statement).
    "core.middleware.SessionMiddleware",
    # The language: the signed-in person's choice (kept in the session from sign-in), else the
    # browser's Accept-Language (core.middleware.LocaleMiddleware, docs/translation.md). After
    # the session, before CommonMiddleware (Django's rule for LocaleMiddleware).
    "core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL character in a URL, query or form answers 400, not a database error.
    "core.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Holds the request for the audit history's actor and origin (core/history.py); the API's
    # token or session user reaches it too, DRF writing its user back onto this request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Signs a session out after its role's idle time (after htmx: it answers HX-Redirect).
    "core.middleware.IdleTimeoutMiddleware",
    # Last: turns a login refused for a lockout into the locked-out page (core.auth).
    "axes.middleware.AxesMiddleware",
]

# Development and tests serve static files straight from the apps' folders, re-read on change,
# so neither `make run` nor the tests need collectstatic; config/settings_production.py serves
# the collected, hashed STATIC_ROOT instead.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

ROOT_URLCONF = "config.urls"

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
                "core.navigation.navigation",
                "core.context_processors.unread_notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'closedloop.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that a real Celery worker in the integration tests sees
    # the rows the test wrote; WAL + a busy timeout let web, worker and beat share it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_closedloop.sqlite3")}
    # Covering indexes (INCLUDE columns, e.g. the event log's `event_cost_marks`) are a
    # PostgreSQL feature; SQLite builds the same index on its key columns, which is all the
    # embedded demo needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: this is short-query (OLTP) work, and PostgreSQL's cost estimate
    # for the board's progress query (correlated subqueries over thousands of operations)
    # crosses jit_above_cost, which spent 56 of its 110 ms compiling (EXPLAIN ANALYZE,
    # bench/README.md "Order board"). PG_JIT=on gives it back to a deployment that wants it.
    #
    # Timeouts: a database that accepts the connection but never answers must not hold a web
    # worker until gunicorn kills it (that answered 500 after 30 s); a statement that runs
    # away is cancelled by the server. 0 ms means no statement limit (migrations, batch work).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["connect_timeout"] = int(env_number("DB_CONNECT_TIMEOUT", "5", minimum=1))
    statement_timeout_ms = int(env_number("DB_STATEMENT_TIMEOUT_MS", "30000"))
    options["options"] = (
        f"-c jit={'on' if env_bool('PG_JIT', False) else 'off'}"
        f" -c statement_timeout={statement_timeout_ms}"
    )
    # Prepared statements: only those a hot path asks for (core/rawsql.py `cursor_prepared`:
    # one production event's lookups, planned once per connection instead of every time).
    # Django's own queries bind on the client and are never prepared. A connection pooler in
    # transaction mode that does not keep prepared statements needs DB_PREPARED_STATEMENTS=off.
    DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
    options["prepare_threshold"] = 2**31 - 1 if DB_PREPARED_STATEMENTS else None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages (docs/translation.md) ----------------------------------------------------------
# English and Simplified Chinese. A person's choice is kept on their account (core.UserPreference)
# and applied from sign-in; without one, the browser's Accept-Language decides, then this.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# Each app translates its own strings in <app>/locale/ (found as an installed app's); the
# shared templates' strings (layout, sign-in, error pages) are the project's, in locale/.
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers as each language writes them (config/formats/<lang>/formats.py
# where Django's own do not read as the plant expects).
FORMAT_MODULE_PATH = ["config.formats"]
# The language the demo plant's data is written in (names of items, machines, operations, notes):
# the demo is a Shanghai plant, so Chinese unless `load_demo --language en` or this says otherwise.
DEMO_LANGUAGE = os.environ.get("DEMO_LANGUAGE", "zh-hans")
if DEMO_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"DEMO_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}, not {DEMO_LANGUAGE!r}."
    )
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")  # the plant's time zone, in every language
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
# `manage.py backup` writes here (docs/operations.md); no uploaded files (MEDIA_ROOT) yet.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", VAR_DIR / "backups"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Sign-in, sessions, API credentials (docs/security.md) ----------------------------------
# The lockout backend first: it refuses a locked-out username+address before any backend
# checks the password. Single sign-on backends (LDAP, OIDC) are added below when configured.
AUTHENTICATION_BACKENDS = [
    "core.auth.LockoutBackend",
    # Django's ModelBackend, the signed-in user read by a prepared statement (core/auth.py).
    "core.auth.AccountBackend",
    # Model permissions (what the admin site asks) answered by the policy (core/policy.py).
    "core.policy.PolicyBackend",
]


def env_minutes_by_role(name: str, default: str) -> dict[str, int]:
    """`operator=15,inspector=15` from the environment as {role: minutes}."""
    raw = os.environ.get(name, default)
    minutes = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        role, _, value = part.partition("=")
        if not re.fullmatch(r"[a-z_]+", role.strip()) or not value.strip().isdigit():
            raise ImproperlyConfigured(
                f"{name}={raw!r}: give role=minutes pairs, e.g. operator=15."
            )
        minutes[role.strip()] = int(value)
    return minutes


def env_rate(name: str, default: str) -> str | None:
    """A throttle rate (`120/min`, `10/s`, `5000/hour`, `off`) from the environment."""
    raw = os.environ.get(name, default).strip().lower()
    if raw in {"off", "none", ""}:
        return None
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", raw):
        raise ImproperlyConfigured(f"{name}={raw!r}: give requests per period, e.g. 120/min.")
    return raw


# A session ends after this many hours however busy it is, and earlier after its role's idle
# time: shop-floor terminals are shared, so operators and inspectors are signed out after 15
# minutes without a request, office roles after 8 hours (core.middleware.IdleTimeoutMiddleware).
# Database sessions, read by a prepared statement (core/sessions.py).
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_AGE = int(env_number("SESSION_MAX_HOURS", "12", minimum=1) * 3600)
SESSION_IDLE_MINUTES = int(env_number("SESSION_IDLE_MINUTES", "480", minimum=1))
SESSION_IDLE_MINUTES_BY_ROLE = env_minutes_by_role(
    "SESSION_IDLE_MINUTES_BY_ROLE", "operator=15,inspector=15"
)

# Login lockout (django-axes): this many failed sign-ins for one username from one address
# lock that pair out for LOGIN_LOCKOUT_MINUTES, on the login page, the admin's and the API
# (tokens, Basic). Attempts and lockouts are listed in the admin; deleting an attempt there
# (or `manage.py axes_reset_username NAME`) unlocks at once.
AXES_FAILURE_LIMIT = int(env_number("LOGIN_FAILURE_LIMIT", "5", minimum=1))
AXES_COOLOFF_TIME = timedelta(minutes=int(env_number("LOGIN_LOCKOUT_MINUTES", "15", minimum=1)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A try while locked out does not restart the cool-off: the page's "try again in 15 minutes"
# stays true, and the lock still holds for as long as the failures keep coming.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure, with time and address, in the admin
AXES_LOCKOUT_CALLABLE = "core.auth.lockout_response"  # the page in the layout; JSON in /api/
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip"
# Behind a reverse proxy every request comes from the proxy's address; with the number of
# proxies that append to X-Forwarded-For, the lockout and the throttles see the client's.
# 0 (the default) trusts no such header, so a client cannot forge its address.
TRUSTED_PROXY_COUNT = int(env_number("TRUSTED_PROXY_COUNT", "0"))

# API tokens of service accounts (core.tokens): valid this many days unless the admin gives
# another expiry, and never longer than API_TOKEN_MAX_DAYS. The last use is written at most
# once per API_TOKEN_TOUCH_SECONDS, so a busy integration does not write on every request.
API_TOKEN_DEFAULT_DAYS = int(env_number("API_TOKEN_DEFAULT_DAYS", "90", minimum=1))
API_TOKEN_MAX_DAYS = int(env_number("API_TOKEN_MAX_DAYS", "366", minimum=1))
API_TOKEN_TOUCH_SECONDS = int(env_number("API_TOKEN_TOUCH_SECONDS", "60"))
# HTTP Basic with a person's password: for trying the API by hand in development only;
# config/settings_production.py refuses it. Integrations use API tokens.
API_BASIC_AUTH = env_bool("API_BASIC_AUTH", False)

# Requests per client (core.throttling): anonymous callers by address, people by account,
# service accounts by token. Over the rate the API answers 429 with Retry-After.
API_THROTTLE_RATES = {
    "anon": env_rate("API_THROTTLE_ANON", "30/min"),
    "user": env_rate("API_THROTTLE_USER", "120/min"),
    "token": env_rate("API_THROTTLE_TOKEN", "1200/min"),
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "closedloop@localhost")

# Shop floor: an issue up to the requirement plus this share goes through without approval;
# moving work in progress to a backup machine takes this long (delay estimates).
EXECUTION_ISSUE_TOLERANCE_PCT = env_number("EXECUTION_ISSUE_TOLERANCE_PCT", "2")
EXECUTION_TRANSFER_MINUTES = int(env_number("EXECUTION_TRANSFER_MINUTES", "30"))

# Record plausibility (docs/execution.md, "Plausibility and approvals"). A production event
# whose occurred_at lies before the start of the current shift of its task's work center, or
# more than this many hours back, is held for a supervisor's signed approval.
EXECUTION_BACKDATE_MAX_HOURS = env_number("EXECUTION_BACKDATE_MAX_HOURS", "12")
# Off: only the hours count, not the start of the current shift.
EXECUTION_BACKDATE_FROM_SHIFT_START = env_bool("EXECUTION_BACKDATE_FROM_SHIFT_START", True)
# Good + scrap reported on an operation beyond its order's quantity plus this share is held
# for approval; a routing step may set its own share (over_delivery_pct).
EXECUTION_OVER_DELIVERY_PCT = env_number("EXECUTION_OVER_DELIVERY_PCT", "10")
# Costing (docs/costing.md, "Variances"): a variance more than this share of its standard is
# flagged with its likely cause; a cost version may set its own (variance_threshold_pct).
COSTING_VARIANCE_THRESHOLD_PCT = env_number("COSTING_VARIANCE_THRESHOLD_PCT", "10")
# A scanned receipt may exceed the open quantity of its purchase order line by this share.
EXECUTION_RECEIPT_TOLERANCE_PCT = env_number("EXECUTION_RECEIPT_TOLERANCE_PCT", "0")

# Machine states from the device gateway (docs/devices.md, "States, counts and faults"): a
# stop shorter than this many seconds is a small stop; a fault signal raises an
# equipment-fault exception of this severity (its rule routes it and sets its deadline).
DEVICES_MICRO_STOP_SECONDS = int(env_number("DEVICES_MICRO_STOP_SECONDS", "120"))
DEVICES_FAULT_SEVERITY = os.environ.get("DEVICES_FAULT_SEVERITY", "urgent")

REST_FRAMEWORK = {
    # The first class's challenge answers a request without valid credentials: 401 with
    # `WWW-Authenticate: Bearer`. Basic only with API_BASIC_AUTH (development).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.ApiTokenAuthentication",
        "core.auth.DevelopmentBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.PolicyPermission"],  # reads core/policy.py
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ClientRateThrottle"],  # API_THROTTLE_RATES
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # django-filter's, refusing unknown query parameters; pages of at most 1,000 rows.
    "DEFAULT_FILTER_BACKENDS": ["core.api.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",  # refuses NUL characters, naming the field
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error as {"detail": ..., "errors": [...]}: docs/api-errors.md.
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ClosedLoop API",  # the product's name, also the downloaded file's name
    # Every text of the schema is a translation, served in the reader's language (/api/docs/
    # asks for its reader's, config/urls.py; /api/schema/?lang=zh-hans): docstrings stay
    # notes for developers, the operations' descriptions are extend_schema(description=…).
    "DESCRIPTION": gettext_lazy("Planning (ERP) and execution (MES) of a plant, one loop."),
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ from the sidecar's files under /static/: no CDN, works in a plant without
    # internet. No online validator badge either (it would send the schema URL to swagger.io).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # The error answers of every operation, with the one error body (docs/api-errors.md).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema_error_responses",
    ],
    # Several models have a `status`; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "EquipmentStatusEnum": "resources.models.Equipment.Status",
        # A routing step's minimum and a labour rate's level are one scale.
        "SkillLevelEnum": "resources.models.SkillLevel",
        "PurchaseOrderStatusEnum": "resources.models.PurchaseOrder.Status",
        "SalesOrderStatusEnum": "planning.models.SalesOrder.Status",
        "ProductionOrderStatusEnum": "planning.models.ProductionOrder.Status",
        "OperationStatusEnum": "planning.models.OrderOperation.Status",
        "RequisitionStatusEnum": "planning.models.PurchaseRequisition.Status",
        "RunStatusEnum": "planning.models.MrpRun.Status",  # also schedule runs
        "PlannedOrderStatusEnum": "planning.models.PlannedOrder.Status",
        "PlannedOrderKindEnum": "planning.models.PlannedOrder.Kind",
        "StockMoveKindEnum": "resources.models.StockMove.Kind",
        "EventKindEnum": "execution.models.ProductionEvent.Kind",
        "TaskStatusEnum": "execution.models.Task.Status",
        "ApprovalStatusEnum": "execution.models.IssueApproval.Status",
        "AlertStatusEnum": "execution.models.WorkAlert.Status",
        "CharacteristicKindEnum": "quality.models.Characteristic.Kind",
        "InspectionResultEnum": "quality.models.InspectionRecord.Result",
        "HoldStatusEnum": "quality.models.QualityHold.Status",
    },
}

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Exported text cells starting with = + - @ TAB or CR get a leading ' (resources.resources).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Master-data import limits (docs/import.md), checked before and while a file is read. The
# admin imports at most IMPORT_SYNC_MAX_ROWS rows while a request waits; the Import page runs
# every file as a background job.
IMPORT_MAX_BYTES = int(env_number("IMPORT_MAX_BYTES", "10485760", minimum=1))
IMPORT_MAX_UNZIPPED_BYTES = int(env_number("IMPORT_MAX_UNZIPPED_BYTES", "52428800", minimum=1))
IMPORT_MAX_ROWS = int(env_number("IMPORT_MAX_ROWS", "20000", minimum=1))
IMPORT_SYNC_MAX_ROWS = int(env_number("IMPORT_SYNC_MAX_ROWS", "500"))

# --- Celery -----------------------------------------------------------------------
# With REDIS_URL set, Redis is broker and result store. Without it the embedded default is
# kombu's SQLAlchemy transport on an SQLite file: a real worker and beat run with no server.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get(
    "CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite'}"
)
CELERY_RESULT_BACKEND = os.environ.get(
    "CELERY_RESULT_BACKEND", REDIS_URL or f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite'}"
)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True  # tasks are idempotent, so a redelivery after a crash is safe
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- B2MML (ISA-95) documents (docs/b2mml.md) -------------------------------------------------
# The official V0701 XSDs of MESA International, read once per process: shipped unmodified
# with the product (MESA's licence allows redistribution with attribution:
# integration/standards/b2mml/V0701/LICENSE, docs/b2mml.md), so a checkout validates
# documents wherever it lives; B2MML_SCHEMA_DIR names another copy.
B2MML_SCHEMA_DIR = Path(
    os.environ.get("B2MML_SCHEMA_DIR", BASE_DIR / "integration" / "standards" / "b2mml" / "V0701")
)
# Who we are in a document's ApplicationArea/Sender/LogicalID.
B2MML_LOGICAL_ID = os.environ.get("B2MML_LOGICAL_ID", "ClosedLoop")
# The largest document a request may post (413 above).
B2MML_MAX_BYTES = int(env_number("B2MML_MAX_BYTES", "10485760", minimum=1))

# --- Outbound events to subscribers (docs/integration.md, "Webhooks") --------------------------
# Seconds a webhook may take to answer; a slower one counts as a failed attempt.
INTEGRATION_WEBHOOK_TIMEOUT = float(env_number("INTEGRATION_WEBHOOK_TIMEOUT", "5", minimum=0.1))
# Retry after base, 2·base, 4·base … seconds, never more than the cap; after the last attempt
# the delivery becomes a dead letter (replayed from the admin or the API).
INTEGRATION_RETRY_BASE_SECONDS = float(env_number("INTEGRATION_RETRY_BASE_SECONDS", "10"))
INTEGRATION_RETRY_MAX_SECONDS = float(env_number("INTEGRATION_RETRY_MAX_SECONDS", "3600"))
INTEGRATION_MAX_ATTEMPTS = int(env_number("INTEGRATION_MAX_ATTEMPTS", "8", minimum=1))

# --- Legacy sync (docs/integration.md, "Legacy sync") ------------------------------------------
# Every CSV drop folder of a legacy source lies under this folder (a source names its folder
# relative to it): the API and the admin cannot point a source at any other file of the host.
LEGACY_SYNC_ROOT = Path(os.environ.get("LEGACY_SYNC_ROOT", VAR_DIR / "legacy"))

# --- Devices: telemetry storage (docs/devices.md, "Telemetry storage") -------------------------
# Raw samples are kept this many whole days (on PostgreSQL: day partitions dropped after it),
# hourly aggregates this many; day partitions are created this many days ahead.
DEVICES_TELEMETRY_RETENTION_DAYS = int(
    env_number("DEVICES_TELEMETRY_RETENTION_DAYS", "14", minimum=1)
)
DEVICES_HOURLY_RETENTION_DAYS = int(env_number("DEVICES_HOURLY_RETENTION_DAYS", "730", minimum=1))
DEVICES_TELEMETRY_DAYS_AHEAD = int(env_number("DEVICES_TELEMETRY_DAYS_AHEAD", "3", minimum=1))

# --- Devices (docs/devices.md, "Running the adapters") ---------------------------------------
# Seconds between the beat job's read passes of every enabled endpoint.
DEVICES_POLL_SECONDS = float(os.environ.get("DEVICES_POLL_SECONDS", "5"))
# Store-and-forward: where the gateway and the poll spool batches while the database is away.
DEVICES_SPOOL_DIR = Path(os.environ.get("DEVICES_SPOOL_DIR", VAR_DIR / "spool"))
# The gateway cuts a batch every DEVICES_FLUSH_MS or at DEVICES_MAX_BATCH samples. A batch
# costs the ingest a fixed part per machine (its link, counters, open interval) on top of each
# sample, so a high rate is best absorbed by larger batches: 200 ms at 50,000 samples/s is
# 10,000 (bench/README.md, "Telemetry ingest").
DEVICES_FLUSH_MS = int(os.environ.get("DEVICES_FLUSH_MS", "200"))
DEVICES_MAX_BATCH = int(os.environ.get("DEVICES_MAX_BATCH", "20000"))
# Longest wait between two reconnects to a machine (exponential backoff from 0.5 s).
DEVICES_BACKOFF_MAX_SECONDS = float(os.environ.get("DEVICES_BACKOFF_MAX_SECONDS", "30"))

# --- Cache ----------------------------------------------------------------------------------
# Holds the API's throttle counters, which every web worker must share: Redis (CACHE_URL, by
# default REDIS_URL) in production; without one, each process counts for itself in memory.
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "closedloop"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Failed sign-ins and lockouts (warnings), not every successful login.
        "axes": {"level": "WARNING"},
        # The protocol libraries narrate every session and read at INFO, and warn about
        # normal things (a session timeout the server shortened); the adapters log what
        # matters (links up and down, values skipped) under devices.*.
        "asyncua": {"level": os.environ.get("DEVICES_PROTOCOL_LOG_LEVEL", "ERROR")},
        "pymodbus": {"level": os.environ.get("DEVICES_PROTOCOL_LOG_LEVEL", "WARNING")},
    },
}

# --- Single sign-on (optional): OIDC or LDAP from the environment (config/sso.py) ------------
for _sso in (oidc_settings(os.environ), ldap_settings(os.environ)):
    INSTALLED_APPS += _sso.pop("INSTALLED_APPS", [])
    AUTHENTICATION_BACKENDS += _sso.pop("AUTHENTICATION_BACKENDS", [])
    globals().update(_sso)
OIDC_ENABLED = "mozilla_django_oidc" in INSTALLED_APPS
