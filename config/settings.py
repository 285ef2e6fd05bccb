"""Settings for the CRM and lookup API: one module, switched by environment variables."""

import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is read if present; real environment variables win over it.
ENV_FILE = Path(os.environ.get("DJANGO_ENV_FILE", BASE_DIR / ".env"))
if ENV_FILE.is_file():
    env.read_env(ENV_FILE)

# CORE
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment or in .env "
            "(`make run` writes a .env with a random key), or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - DEBUG only, never reaches production
elif "change-me" in SECRET_KEY.lower() and not DEBUG:
    # .env.example ships a placeholder; a copied-but-unedited file must not reach production.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is still the placeholder from .env.example. Replace it with a long random string, "
        "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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
    "phonenumber_field",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "crm",
    "lookup",
    "genesys",
    "axes",  # login lockout (SECURITY block below)
    "django_otp",
    # django-otp's device apps, with readable names in the admin (security/otp_apps.py).
    "security.otp_apps.AuthenticatorAppsConfig",
    "security.otp_apps.BackupCodesConfig",
    "csp",
    "security",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # config.browser_middleware's are Django's own, skipped on /api/ (that module says why).
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.browser_middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(); a no-op on /api/ (no user there)
    "security.middleware.SessionIdleTimeoutMiddleware",
    "security.middleware.Require2FAMiddleware",
    "config.browser_middleware.MessageMiddleware",
    # Kept as is: check --deploy looks for it by name, and it costs one header.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Edit history: names the admin user behind every change saved during the request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # After X-Frame-Options and CSP, so it sees the response first: a no-op unless DJANGO_FRAME_ANCESTORS is set.
    "crm.framing.FrameAncestorsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
            ],
        },
    },
]

# DATABASES
# ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + busy timeout + BEGIN IMMEDIATE: several gunicorn workers can write audit
    # rows without "database is locked" (a deferred transaction cannot wait on the timeout).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 5,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when PostgreSQL is unreachable (503 well inside the flow's budget, lookup.contract.FLOW_BUDGET_MS; libpq's
    # minimum is 2 s), and test a persistent connection before reuse so a restarted
    # database costs no failed request.
    DATABASES["default"]["OPTIONS"] = {"connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=2)}
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        # Server-side binding alone prepares nothing: prepare_threshold makes psycopg prepare a
        # statement after 5 runs, so the lookup's three statements skip parsing and planning.
        DATABASES["default"]["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
    # Behind PgBouncer in transaction mode a server-side cursor cannot outlive its transaction.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_DISABLE_SERVER_SIDE_CURSORS", default=False)
if env.str("DATABASE_REPLICA_URL", default=""):
    # Lookups may read customers from a replica (design §10); see config/routers.py.
    DATABASES["replica"] = {**env.db("DATABASE_REPLICA_URL"), "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"]}
    if DATABASES["replica"]["ENGINE"] == DATABASES["default"]["ENGINE"]:  # engine-specific options
        for key in ("OPTIONS", "CONN_HEALTH_CHECKS"):
            if key in DATABASES["default"]:
                DATABASES["replica"][key] = DATABASES["default"][key]
    DATABASE_ROUTERS = ["config.routers.LookupReplicaRouter"]
# Replica reads fail safe (config/routers.py): lagging more than this, or unreachable, sends
# lookups to the primary; each process checks the replica once per DATABASE_REPLICA_CHECK_MS.
DATABASE_REPLICA_MAX_LAG_MS = env.int("DATABASE_REPLICA_MAX_LAG_MS", default=1000)
DATABASE_REPLICA_CHECK_MS = env.int("DATABASE_REPLICA_CHECK_MS", default=500)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHE: shared by all workers and instances through Redis when REDIS_URL is set (throttles).
# ------------------------------------------------------------------------------
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            # A slow or absent Redis must not hold a lookup past the flow's budget.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# SECURITY behind a TLS-terminating proxy or load balancer (check --deploy clean).
# ------------------------------------------------------------------------------
# Off by default so `make run` keeps working on plain http://127.0.0.1.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# SCREEN POP inside the agent desktop's iframe (docs/support.md), opt-in: these origins may
# frame the screen-pop pages (crm/framing.py); every other page keeps X-Frame-Options: DENY.
# ------------------------------------------------------------------------------
FRAME_ANCESTORS = env.list("DJANGO_FRAME_ANCESTORS", default=[])
for _origin in FRAME_ANCESTORS:
    if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]+)?", _origin):
        raise ImproperlyConfigured(
            f"DJANGO_FRAME_ANCESTORS: {_origin!r} is not an origin such as https://apps.mypurecloud.com"
        )
if FRAME_ANCESTORS and env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    # A cross-site iframe is sent no SameSite=Lax cookie: the agent could neither sign in nor stay
    # signed in. SameSite=None needs Secure, which only TLS gives (SESSION_COOKIE_SECURE above).
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"

# AUTH, I18N, STATIC
# ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ADMIN SIGN-IN AND BROWSER SECURITY (docs/operations.md "Security" lists each one)
# ------------------------------------------------------------------------------
# Lockout (django-axes): state in the database, so every worker and instance sees it.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Each is its own lock: one username from anywhere, or one address trying any usernames.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A failure during a lockout does not move its end, so "try again at" on the page stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "security.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "security.clientip.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "code", "csrfmiddlewaretoken"]
AXES_VERBOSE = False  # security.logins writes one structured line per event instead
# Only a TLS proxy we run appends to X-Forwarded-For; without it the header is the client's to forge.
SECURITY_TRUST_X_FORWARDED_FOR = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)

# Two-factor sign-in (django-otp TOTP + backup codes): "" or 0 optional, 1 superusers, staff all staff.
ADMIN_REQUIRE_2FA = env.str("ADMIN_REQUIRE_2FA", default="").strip().lower()
if ADMIN_REQUIRE_2FA in ("", "0", "false", "no", "off"):
    ADMIN_REQUIRE_2FA = ""
elif ADMIN_REQUIRE_2FA in ("1", "true", "yes", "on", "superuser", "superusers"):
    ADMIN_REQUIRE_2FA = "superuser"
elif ADMIN_REQUIRE_2FA != "staff":
    raise ImproperlyConfigured(f"ADMIN_REQUIRE_2FA={ADMIN_REQUIRE_2FA!r}: use 0 (optional), 1 (superusers) or staff.")
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Customer CRM")

# Sessions: a signed-in admin is signed out after this long idle, and after SESSION_COOKIE_AGE at most.
SESSION_IDLE_SECONDS = env.int("DJANGO_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=12 * 60 * 60)
# Flash messages live in the (database) session: a signed cookie would carry a new token's value.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Content-Security-Policy on every page (django-csp); nothing of ours needs inline script or style.
CONTENT_SECURITY_POLICY = {
    # The JSON lookup API is no page to protect, and its hot path skips the header.
    "EXCLUDE_URL_PREFIXES": ["/api/customer/", "/api/interactions"],
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],  # the admin's and Swagger UI's icons are data: URIs
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

# Files: the database, media and job files are readable by this account only (0600/0700).
FILE_UMASK = int(env.str("DJANGO_FILE_UMASK", default="077"), 8)
os.umask(FILE_UMASK)  # here, because every process (manage.py, gunicorn, the jobs worker) imports settings
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# PHONES
# ------------------------------------------------------------------------------
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"

# LOOKUP API
# ------------------------------------------------------------------------------
LOOKUP_SECRET = env.str("LOOKUP_SECRET", default="")
# Audit rows are written in batches at most this many ms after their lookup (0: one INSERT
# per lookup, inline). Only a killed worker loses its last interval (bench/README.md).
LOOKUP_AUDIT_FLUSH_MS = env.int("LOOKUP_AUDIT_FLUSH_MS", default=100)
# Each batched row is also appended to a per-worker spool file there until committed, so a
# killed worker loses none (lookup/audit.py). Default: a folder per database under the temp dir.
LOOKUP_AUDIT_SPOOL_DIR = env.str("LOOKUP_AUDIT_SPOOL_DIR", default="")

REST_FRAMEWORK = {
    # Each view states its own authentication; nothing is open by accident.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["lookup.api.parsers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["lookup.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "lookup.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {
        "lookup": env.str("LOOKUP_THROTTLE_RATE", default="6000/min"),
        "interactions": env.str("INTERACTIONS_THROTTLE_RATE", default="6000/min"),  # two events per conversation
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer CRM lookup API",
    "DESCRIPTION": "Caller lookup for Genesys Cloud Architect flows. Every error is JSON with one `error` key.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# EDIT HISTORY (django-simple-history)
# ------------------------------------------------------------------------------
# History pages (a tier's History button, its revert form) need view_/change_historical<model>,
# which the "Support leads" group grants (crm/roles.py), not merely the right to view the tier.
SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS = True

# BACKGROUND JOBS: large imports and exports (docs/operations.md "Background jobs")
# ------------------------------------------------------------------------------
# django-tasks with its database backend: `python manage.py db_worker` runs them, no extra server.
TASKS = {"default": {"BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}}
# Uploaded imports and finished exports; never served as static files (downloads check permissions).
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
CRM_IMPORT_MAX_FILE_MB = env.int("CRM_IMPORT_MAX_FILE_MB", default=100)
CRM_IMPORT_MAX_CELL_CHARS = env.int("CRM_IMPORT_MAX_CELL_CHARS", default=10_000)
# Files up to this size are previewed and imported inside the request (well under a second).
CRM_INLINE_IMPORT_BYTES = env.int("CRM_INLINE_IMPORT_BYTES", default=64 * 1024)

# METRICS: GET /metrics in the Prometheus text format (docs/operations.md "Metrics").
# ------------------------------------------------------------------------------
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_ENABLED and not METRICS_TOKEN:
    raise ImproperlyConfigured("METRICS_ENABLED=1 needs METRICS_TOKEN: /metrics answers only `Bearer $METRICS_TOKEN`.")

# LOGGING: structured enough to grep, always to stdout.
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # An expected 4xx (403, 404, CSRF, bad Host) is one line; only a 5xx keeps its traceback.
    "filters": {"one_line_4xx": {"()": "security.logfilters.OneLineClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["one_line_4xx"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # security.auth writes one line per sign-in event; django-axes' own lines would repeat each.
    "loggers": {"axes": {"level": "ERROR"}},
}
