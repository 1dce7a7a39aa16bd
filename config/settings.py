"""ClosedLoop settings, read from the environment.

Embedded defaults (no variable set): SQLite under var/, Celery on an SQLite broker file,
console e-mail. Production: see config/settings_production.py and docs/deployment.md.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
    "core",
    "resources",
    "planning",
    "execution",
    "quality",
    "costing",
    "devices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app itself under gunicorn (no separate file server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL character in a URL, query or form answers 400, not a database error.
    "core.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en-us")
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")  # the plant's time zone
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

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "closedloop@localhost")

# Shop floor: an issue up to the requirement plus this share goes through without approval;
# moving work in progress to a backup machine takes this long (delay estimates).
EXECUTION_ISSUE_TOLERANCE_PCT = env_number("EXECUTION_ISSUE_TOLERANCE_PCT", "2")
EXECUTION_TRANSFER_MINUTES = int(env_number("EXECUTION_TRANSFER_MINUTES", "30"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
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
    "TITLE": "ClosedLoop API",
    "DESCRIPTION": "Planning (ERP) and execution (MES) of a plant, one loop.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ from the sidecar's files under /static/: no CDN, works in a plant without
    # internet. No online validator badge either (it would send the schema URL to swagger.io).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several models have a `status`; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "EquipmentStatusEnum": "resources.models.Equipment.Status",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
