"""The one settings module. Every value comes from the environment (see .env.example for the full list).

Two runtime modes (docs/architecture.md):
- embedded (no DATABASE_URL): SQLite and files under var/, a file-system Celery broker, in-memory rate limits;
- production: DATABASE_URL (PostgreSQL), REDIS_URL (broker, cache, rate limits), optional S3 storage.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("TRYON_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
# Every Redis client (rate limit, cache, broker publish, readiness) connects and waits for replies this long at most:
# a Redis that accepts connections but never answers must not hang requests (the rate limit then fails open).
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
EMBEDDED = not DATABASE_URL
DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret_key() -> str:
    configured = env.str("SECRET_KEY", default="")
    if configured:
        return configured
    if not (DEBUG or EMBEDDED):
        raise ImproperlyConfigured("SECRET_KEY must be set outside embedded/debug mode.")
    # Embedded mode: a per-installation key kept under var/ so signed URLs and sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

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
    "tryon_project",
    "accounts",
    "customers",
    "products",
    "watermark",
    "generations",
    "webhooks",
    # Dashboard login throttling (accounts/login_throttle.py).
    "axes",
]

MIDDLEWARE = [
    "tryon_project.api.middleware.RequestIdMiddleware",
    "tryon_project.api.access_log.AccessLogMiddleware",
    "tryon_project.api.middleware.ApiErrorShapeMiddleware",
    # One pixel budget per API request, shared by every image the request decodes.
    "tryon_project.api.middleware.PixelBudgetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A merchant's dashboard pages show times and days in its account's time zone.
    "accounts.middleware.DashboardTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a lockout found during a dashboard login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tryon_project.urls"
WSGI_APPLICATION = "tryon_project.wsgi.application"
ASGI_APPLICATION = "tryon_project.asgi.application"
APPEND_SLASH = False

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

if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # WAL + IMMEDIATE transactions let the web process and the worker write without "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
else:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.int("DB_POOL_MAX_SIZE", default=20):
        # Under ASGI every request runs its sync code on a fresh thread, so per-thread persistent connections would
        # reconnect on every request; psycopg's pool (Django's built-in support) hands connections out instead.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The lockout check first: a locked-out (username, address) pair never reaches the password check.
AUTHENTICATION_BACKENDS = ["accounts.login_throttle.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env.bool("DASHBOARD_LOGIN_THROTTLE", default=True)
AXES_FAILURE_LIMIT = env.int("DASHBOARD_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DASHBOARD_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Audit: every failed login is kept (AccessFailureLog), beside the per-pair counters and the successful logins.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Attempts are kept in the database; they are not dashboard pages (they would show every account's logins).
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    # S3-compatible object storage (AWS, MinIO, R2, ...): presigned URLs, private objects.
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="auto")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = False
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Public API -------------------------------------------------------------------------------------------------
TRYON_API_PREFIX = "/tryon/v1/"
TRYON_MAX_REQUEST_BYTES = env.int("TRYON_MAX_REQUEST_BYTES", default=25 * 1024 * 1024)
TRYON_MAX_FILE_BYTES = env.int("TRYON_MAX_FILE_BYTES", default=10 * 1024 * 1024)
TRYON_MAX_IMAGE_PIXELS = env.int("TRYON_MAX_IMAGE_PIXELS", default=40_000_000)
TRYON_MIN_IMAGE_SIDE = env.int("TRYON_MIN_IMAGE_SIDE", default=64)
# Decoding work (tryon_project/images.py, docs/security.md): the pixels all images of one API request may decode
# together (beyond it 413 PAYLOAD_TOO_LARGE), the pixels one process decodes at once (two images at the pixel
# limit), and how long a decode waits for room before 503 SERVICE_UNAVAILABLE with Retry-After.
TRYON_MAX_REQUEST_PIXELS = env.int("TRYON_MAX_REQUEST_PIXELS", default=100_000_000)
TRYON_IMAGE_DECODE_PIXELS = env.int("TRYON_IMAGE_DECODE_PIXELS", default=80_000_000)
TRYON_IMAGE_DECODE_WAIT_SECONDS = env.float("TRYON_IMAGE_DECODE_WAIT_SECONDS", default=10.0)
TRYON_MAX_LONG_SIDE = env.int("TRYON_MAX_LONG_SIDE", default=2048)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = TRYON_MAX_FILE_BYTES

TRYON_RATE_LIMIT_PER_MINUTE = env.int("TRYON_RATE_LIMIT_PER_MINUTE", default=100)
TRYON_RATE_LIMIT_STORAGE = env.str("TRYON_RATE_LIMIT_STORAGE", default=REDIS_URL or "memory://")
# How long an authenticated key may be served from the cache (accounts/key_cache.py); 0 turns the cache off.
TRYON_API_KEY_CACHE_SECONDS = env.int("TRYON_API_KEY_CACHE_SECONDS", default=30)
TRYON_DEFAULT_RETENTION_DAYS = env.int("TRYON_DEFAULT_RETENTION_DAYS", default=7)
TRYON_SIGNED_URL_TTL_SECONDS = env.int("TRYON_SIGNED_URL_TTL_SECONDS", default=3600)
TRYON_SYNC_WAIT_SECONDS = env.int("TRYON_SYNC_WAIT_SECONDS", default=90)
TRYON_ENGINE = env.str("TRYON_ENGINE", default="local")
# A generation is attempted at most this many times (worker crashes, retryable engine errors): a poison pill
# that kills every worker that touches it ends FAILED instead of looping.
TRYON_MAX_ATTEMPTS = env.int("TRYON_MAX_ATTEMPTS", default=3)
# The reaper re-sends PENDING rows older than this (broker down at commit) ...
TRYON_REAPER_PENDING_AFTER_SECONDS = env.int("TRYON_REAPER_PENDING_AFTER_SECONDS", default=120)
TRYON_REAPER_INTERVAL_SECONDS = env.int("TRYON_REAPER_INTERVAL_SECONDS", default=60)
# Extra engines an operator plugs in, as name=dotted.path.Class pairs separated by commas.
TRYON_EXTRA_ENGINES = env.dict("TRYON_EXTRA_ENGINES", default={})

# Hosted engines (docs/engines-hosted.md). Their timeout must stay below the task's soft time limit.
TRYON_HOSTED_TIMEOUT_SECONDS = env.float("TRYON_HOSTED_TIMEOUT_SECONDS", default=60.0)
TRYON_GEMINI_API_KEY = env.str("TRYON_GEMINI_API_KEY", default="")
TRYON_GEMINI_MODEL = env.str("TRYON_GEMINI_MODEL", default="gemini-3.1-flash-image")
TRYON_GEMINI_BASE_URL = env.str("TRYON_GEMINI_BASE_URL", default="")
TRYON_VERTEX_PROJECT = env.str("TRYON_VERTEX_PROJECT", default="")
TRYON_VERTEX_LOCATION = env.str("TRYON_VERTEX_LOCATION", default="us-central1")
TRYON_VERTEX_MODEL = env.str("TRYON_VERTEX_MODEL", default="virtual-try-on-001")
TRYON_VERTEX_API_KEY = env.str("TRYON_VERTEX_API_KEY", default="")
TRYON_VERTEX_BASE_URL = env.str("TRYON_VERTEX_BASE_URL", default="")
# dont_allow | allow_adult | allow_all (a children's clothing shop needs allow_all).
TRYON_VERTEX_PERSON_GENERATION = env.str("TRYON_VERTEX_PERSON_GENERATION", default="allow_adult")
TRYON_VERTEX_SAFETY_SETTING = env.str("TRYON_VERTEX_SAFETY_SETTING", default="block_medium_and_above")
TRYON_VERTEX_SAMPLE_COUNT = env.int("TRYON_VERTEX_SAMPLE_COUNT", default=1)
# Empty: the per-call quality option decides (fast 16, balanced the model's default, quality 48).
TRYON_VERTEX_BASE_STEPS = env.int("TRYON_VERTEX_BASE_STEPS", default=None)
TRYON_VERTEX_OUTPUT_MIME_TYPE = env.str("TRYON_VERTEX_OUTPUT_MIME_TYPE", default="image/jpeg")
TRYON_VERTEX_OUTPUT_QUALITY = env.int("TRYON_VERTEX_OUTPUT_QUALITY", default=90)
TRYON_FASHN_API_KEY = env.str("TRYON_FASHN_API_KEY", default="")
TRYON_FASHN_BASE_URL = env.str("TRYON_FASHN_BASE_URL", default="https://api.fashn.ai")
TRYON_FASHN_MODEL = env.str("TRYON_FASHN_MODEL", default="tryon-v1.6")
TRYON_FASHN_MODE = env.str("TRYON_FASHN_MODE", default="balanced")
# tryon-v1.6 only: conservative | permissive | none (empty: FASHN's default); segmentation_free true/false.
TRYON_FASHN_MODERATION_LEVEL = env.str("TRYON_FASHN_MODERATION_LEVEL", default="")
TRYON_FASHN_SEGMENTATION_FREE = env.bool("TRYON_FASHN_SEGMENTATION_FREE", default=None)
# tryon-max only: 1k | 2k | 4k.
TRYON_FASHN_RESOLUTION = env.str("TRYON_FASHN_RESOLUTION", default="1k")
# Self-hosted Cog container (docs/engines-hosted.md): URL, model preset (idm-vton, fashn-vton-1.5, catvton, leffa,
# custom), the custom preset as JSON, and a bearer token for an authenticating proxy in front of it.
TRYON_COG_URL = env.str("TRYON_COG_URL", default="http://127.0.0.1:5000")
TRYON_COG_PRESET = env.str("TRYON_COG_PRESET", default="idm-vton")
TRYON_COG_PRESET_JSON = env.str("TRYON_COG_PRESET_JSON", default="")
TRYON_COG_AUTH_TOKEN = env.str("TRYON_COG_AUTH_TOKEN", default="")
# Replicate: API token, model "owner/name" (or a pinned version id), preset, and Prefer: wait seconds (1-60).
TRYON_REPLICATE_API_TOKEN = env.str("TRYON_REPLICATE_API_TOKEN", default="")
TRYON_REPLICATE_BASE_URL = env.str("TRYON_REPLICATE_BASE_URL", default="https://api.replicate.com")
TRYON_REPLICATE_MODEL = env.str("TRYON_REPLICATE_MODEL", default="cuuupid/idm-vton")
TRYON_REPLICATE_VERSION = env.str("TRYON_REPLICATE_VERSION", default="")
TRYON_REPLICATE_PRESET = env.str("TRYON_REPLICATE_PRESET", default="idm-vton")
TRYON_REPLICATE_WAIT_SECONDS = env.int("TRYON_REPLICATE_WAIT_SECONDS", default=30)
TRYON_DEMO_CREDITS = env.int("TRYON_DEMO_CREDITS", default=100)
TRYON_IDEMPOTENCY_TTL_HOURS = env.int("TRYON_IDEMPOTENCY_TTL_HOURS", default=24)
# A request in flight renews the lease on its Idempotency-Key every third of this; a key whose request died (lease
# lapsed) is taken over by the next request with the same body instead of answering 409 until the record expires.
TRYON_IDEMPOTENCY_LEASE_SECONDS = env.float("TRYON_IDEMPOTENCY_LEASE_SECONDS", default=30.0)
# Mounts /bench/bare, the baseline of bench/api.py. Never on in production.
TRYON_BENCH_VIEWS = env.bool("TRYON_BENCH_VIEWS", default=False)
TRYON_PRODUCT_PURGE_INTERVAL_SECONDS = env.int("TRYON_PRODUCT_PURGE_INTERVAL_SECONDS", default=3600)
# Watermark logos are stored at most this many pixels on their long side (they are drawn far smaller).
TRYON_WATERMARK_LOGO_MAX_SIDE = env.int("TRYON_WATERMARK_LOGO_MAX_SIDE", default=1024)

# Webhooks (docs/webhooks.md). Seconds to wait after each failed attempt (+ up to 25 % jitter); the default
# spreads 11 attempts over about 25.7 hours.
_WEBHOOK_RETRY_DEFAULT = "5,30,120,600,1800,3600,7200,14400,28800,36000"
TRYON_WEBHOOK_RETRY_SCHEDULE = [
    int(seconds) for seconds in env.list("TRYON_WEBHOOK_RETRY_SCHEDULE", default=_WEBHOOK_RETRY_DEFAULT.split(","))
]
# After a rotation the previous secret keeps signing, next to the new one, for this long.
TRYON_WEBHOOK_SECRET_GRACE_HOURS = env.int("TRYON_WEBHOOK_SECRET_GRACE_HOURS", default=24)
# The sweep sends due retries and lost tasks, and drops finished delivery logs older than TRYON_WEBHOOK_LOG_DAYS.
TRYON_WEBHOOK_SWEEP_INTERVAL_SECONDS = env.int("TRYON_WEBHOOK_SWEEP_INTERVAL_SECONDS", default=60)
TRYON_WEBHOOK_LOG_DAYS = env.int("TRYON_WEBHOOK_LOG_DAYS", default=30)

# The one safe URL fetcher (docs/security.md).
TRYON_FETCH_ALLOWED_PORTS = [int(p) for p in env.list("TRYON_FETCH_ALLOWED_PORTS", default=["80", "443"])]
TRYON_FETCH_ALLOW_NETWORKS = env.list("TRYON_FETCH_ALLOW_NETWORKS", default=[])
TRYON_FETCH_MAX_BYTES = env.int("TRYON_FETCH_MAX_BYTES", default=10 * 1024 * 1024)
TRYON_FETCH_CONNECT_TIMEOUT = env.float("TRYON_FETCH_CONNECT_TIMEOUT", default=3.0)
TRYON_FETCH_READ_TIMEOUT = env.float("TRYON_FETCH_READ_TIMEOUT", default=5.0)
TRYON_FETCH_TOTAL_TIMEOUT = env.float("TRYON_FETCH_TOTAL_TIMEOUT", default=15.0)
TRYON_FETCH_MAX_REDIRECTS = env.int("TRYON_FETCH_MAX_REDIRECTS", default=3)
# Downloads one account may have running at once while its requests wait (customer photo URLs); beyond it 429
# RATE_LIMITED. Counted in the rate-limit store; 0 removes the cap (docs/security.md).
TRYON_FETCH_CONCURRENCY_PER_ACCOUNT = env.int("TRYON_FETCH_CONCURRENCY_PER_ACCOUNT", default=4)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.auth.HasAccount"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.AccountRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "tryon_project.api.json_guard.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "tryon_project.api.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Try-On API",
    "DESCRIPTION": (
        "Virtual try-on API implementing the Try-On API v1 wire protocol: reference revision 1.1.0, with the "
        "request shapes of revisions 1.0 to 1.4 accepted (docs/compatibility.md). Authenticate with the `x-api-key` "
        "header.\n\nNew here? The [quickstart](/tryon/v1/docs/quickstart) goes from a fresh checkout to a downloaded "
        "try-on image; the multipart example of `POST /try-on` below is its main call, with the garment and person "
        "photos attached as files."
    ),
    # The server's own version, from pyproject.toml (set by tryon_project.api.schema.finish_document).
    "VERSION": None,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/tryon/v1",
    "PREPROCESSING_HOOKS": ["tryon_project.api.schema.strip_optional_trailing_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tryon_project.api.schema.finish_document",
    ],
    "ENUM_NAME_OVERRIDES": {
        "GenerationErrorCode": "tryon_project.api.schema.GENERATION_ERROR_CODE_NAMES",
        "RetentionDaysEnum": "accounts.models.RetentionDays",
        "ProductCategoryEnum": "products.models.ProductCategory",
    },
    # Served from the drf-spectacular-sidecar package: no external CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Celery ------------------------------------------------------------------------------------------------------
_broker_dir = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    # A message whose worker died unacknowledged comes back after the visibility timeout (kept above the hard time
    # limit so a live task is never delivered twice); unacked messages are scanned every 10 s, not every 100 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        # Publishing is a synchronous command: without a socket timeout it waits forever on a silent broker. The
        # read timeout stays above the consumer's 1 s BRPOP (the worker's own reads run in its event loop).
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    }
    CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT * 2
    # One retry of a failed publish, not three: a request that sends a task waits about 2 x 2 s at most on a silent
    # broker before its recovery path (reaper, sweep) takes over.
    CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}
else:
    # Embedded mode: kombu's file-system transport needs no broker server.
    # "localhost" only so kombu does not warn "No hostname was supplied" on every connection: no host is used.
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # The exchange tables too, or kombu writes them to ./control of whatever directory the process runs in.
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
# Storage deletions have a queue of their own, so an erased user's objects are not deleted behind a backlog of
# generations. A worker started without -Q consumes every queue below (the documented worker commands and the
# embedded mode); `celery -A tryon_project worker -Q deletions` runs deletions that never wait for a free slot.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "deletions": {}}
CELERY_TASK_ROUTES = {"platform.delete_blobs": {"queue": "deletions"}}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_TASK_IGNORE_RESULT = True
if TRYON_HOSTED_TIMEOUT_SECONDS >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("TRYON_HOSTED_TIMEOUT_SECONDS must be below CELERY_TASK_SOFT_TIME_LIMIT.")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "products-purge-expired": {
        "task": "products.tasks.product_purge_expired",
        "schedule": float(TRYON_PRODUCT_PURGE_INTERVAL_SECONDS),
    },
    "generations-reap": {"task": "generations.reap", "schedule": float(TRYON_REAPER_INTERVAL_SECONDS)},
    "generations-purge-results": {"task": "generations.purge_results", "schedule": 600.0},
    "customers-purge-expired": {"task": "customers.purge_expired", "schedule": 600.0},
    # The durable deletion queue: whatever the jobs sent after commit did not delete (broker down, storage error).
    "blob-deletions": {"task": "platform.delete_blobs", "schedule": 600.0},
    "idempotency-purge": {"task": "platform.purge_idempotency", "schedule": 3600.0},
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": float(TRYON_WEBHOOK_SWEEP_INTERVAL_SECONDS)},
}

# --- Security headers for production ------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# Off by default: they commit every subdomain of the operator's domain to HTTPS (docs/deployment.md).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = env.str("X_FRAME_OPTIONS", default="SAMEORIGIN")

# One line per request on the "tryon.access" logger (tryon_project/api/access_log.py): method, redacted path,
# status, ms, request id. Off with TRYON_ACCESS_LOG=false (e.g. when a proxy in front logs requests already).
TRYON_ACCESS_LOG = env.bool("TRYON_ACCESS_LOG", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "tryon_project.api.request_id.RequestIdLogFilter"},
        "path_redact": {"()": "tryon_project.api.access_log.RequestPathRedactFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django logs every 4xx with its full path; paths may carry customer ids, so only errors get through, and
        # those name the route instead of the path.
        "django.request": {"level": "ERROR", "filters": ["path_redact"]},
        "django.server": {"level": "WARNING"},
        # urllib3 logs full URLs at DEBUG and host names on TLS warnings: logs carry no URLs.
        "urllib3": {"level": "ERROR"},
        # Celery's own INFO lines (connected, ready, "Task ... received/succeeded" with task ids and return values)
        # are noise next to the worker's one line per generation attempt (generations/worker_log.py).
        "celery": {"level": "WARNING"},
        # uvicorn's own access line prints the raw path and query (customer ids, signed-URL signatures); the
        # project's access log above is the one line per request, whatever flags the server was started with.
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
