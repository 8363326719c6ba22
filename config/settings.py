"""Settings for the PAIS rehab tracker, read from the environment (see docs/configuration.md).

With nothing set, the project runs on a SQLite file and an embedded filesystem broker, so that
``make run`` works on a laptop with no services. Production sets DATABASE_URL, REDIS_URL,
DJANGO_SECRET_KEY and DJANGO_DEBUG=0.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, parse_email_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PAIS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0b5e9c"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a secret value when DJANGO_DEBUG is off"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# The address the product uses for links in emails and webhooks (no trailing slash).
SITE_URL = env_str("PAIS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The base of the canonical URLs of the FHIR definitions this installation publishes (the FAAM
# and PSFS Questionnaires and the local CodeSystems; docs/fhir.md). Empty: SITE_URL + "/fhir".
# Set it once and keep it: changing it renames every Questionnaire and local code system.
FHIR_BASE_URL = env_str("PAIS_FHIR_BASE_URL", "").rstrip("/")
if FHIR_BASE_URL and not FHIR_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PAIS_FHIR_BASE_URL must be an http:// or https:// address")
# The identifier system of the clinics' medical record numbers in FHIR (Patient.identifier),
# for clinics whose own (Clinic.mrn_system) is blank. Empty: SITE_URL + "/fhir/sid/mrn/<slug>".
MRN_SYSTEM = env_str("PAIS_MRN_SYSTEM", "").rstrip("/")
if MRN_SYSTEM and not MRN_SYSTEM.startswith(("https://", "http://", "urn:")):
    raise ImproperlyConfigured("PAIS_MRN_SYSTEM must be an http(s):// address or a urn:")

INSTALLED_APPS = [
    # First: its changepassword command (which also revokes API tokens) replaces Django's.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rehab",
    "reports",
    # The project's own deploy checks (config/security.py).
    "config.apps.SiteConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every HTML response, in development too (config/security.py).
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's documented order): the language from the
    # language cookie or Accept-Language; accounts.middleware.UserLanguageMiddleware then puts the
    # signed-in user's own choice on pages (docs/i18n.md).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets request.user.is_verified(): whether this session passed the two-factor step.
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequestContextMiddleware",
    # After authentication: a signed-in user's language wins over Accept-Language on pages.
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages middleware: both say why they signed somebody out or sent them on.
    "accounts.middleware.SessionPolicyMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat write to one SQLite file at once in `make run`;
    # WAL and a busy timeout keep them from failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL compiles a query to machine code (JIT) when the planner's cost estimate is
    # high. For the short queries of pages that costs far more than it saves: the caseload's
    # page query spent 1 s compiling for 30 ms of work while a table's statistics were stale
    # (docs/performance.md). Kept off for every connection of the project.
    db_options = DATABASES["default"].setdefault("OPTIONS", {})
    db_options["options"] = f"{db_options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The rules' covering indexes (rehab.0004) include non-key columns, a PostgreSQL feature; SQLite
# (development) builds them as plain indexes, which is all it needs (docs/performance.md).
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English is the source language; every other language is a catalogue in locale/ (docs/i18n.md).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# In development static files come from the app folders (runserver and WhiteNoise's autorefresh);
# there is no collected folder to warn about.
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded files (a clinic's exercise pictures, docs/clinic-exercises.md) go through Django's
# storage API into MEDIA_ROOT. No URL serves this folder: every file is served by a view that
# checks who may see it, so MEDIA_URL is never routed and the web server must not serve it either.
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
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

# --- Redis, Celery and the cache -----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")

if REDIS_URL:
    # A frozen or unreachable Redis must cost a request two seconds, not hang it.
    _REDIS_CACHE_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pais",
            "OPTIONS": _REDIS_CACHE_TIMEOUTS,
        },
        # Sign-in throttles and lockouts (accounts/throttling.py). In Redis, so that every
        # gunicorn worker and every web machine counts the same failures.
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pais-throttle",
            "OPTIONS": _REDIS_CACHE_TIMEOUTS,
        },
    }
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport, repaired so that losing Redis never stops a worker
    # (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # Longer than the longest task's hard time limit, so a slow task is never handed to a
        # second worker while the first still runs it.
        "visibility_timeout": 3600,
        # Fail fast when Redis is unreachable: a web request that queues a task must not hang
        # (the rows it wrote are picked up by the relays once the broker is back).
        "socket_connect_timeout": 2,
        # A Redis that hangs without closing the connection (frozen, failing over, behind a
        # dropped network path) must not hang it either: without a read timeout a publish waits
        # forever (tests/integration/test_fault_redis_down.py, "frozen"). Well above the 1 s
        # BRPOP wait of kombu's consumer.
        "socket_timeout": 2,
    }
else:
    # Per process: without Redis, each process keeps its own sign-in throttle counts.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle",
        },
    }
    # kombu's filesystem transport: a folder of message files that a worker and beat on the same
    # machine share. It needs no server, which keeps `make run` zero-setup.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # The host is meaningless for this transport; naming one stops kombu warning that none was.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu writes its exchange tables to ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The transport polls the folder; kombu's default of once a second caps a worker at
        # about one message a second, so a burst (seed_demo queues one evaluation per entry)
        # would hold up the next real one for minutes.
        "polling_interval": 0.1,
    }
    # Ctrl-C in `make run` reaches the worker's whole process group; a prefork worker on this
    # transport then often hangs until honcho kills it, while a thread pool stops in seconds.
    CELERY_WORKER_POOL = "threads"

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No result backend (results are ignored), so beat's daily result clean-up has nothing to do.
CELERY_RESULT_EXPIRES = None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# What runs when (docs/operations.md, "Background jobs"). Each periodic message expires before
# its next run, so a worker that was down for hours does not work through a pile of stale runs.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Each patient soon after their own local midnight (every offset in use is a multiple of
    # 15 minutes), not the whole world at one server hour: rehab.read_model, docs/performance.md.
    "local-midnight-evaluation": {
        "task": "rehab.tasks.evaluate_new_local_days",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    "evaluation-relay": {
        "task": "rehab.tasks.relay_evaluations",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "delivery-relay": {
        "task": "rehab.notify.tasks.relay_deliveries",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "patient-reminders": {
        "task": "rehab.tasks.send_reminders",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    "alert-escalation": {
        "task": "rehab.tasks.escalate_alerts",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    "weekly-digest": {
        "task": "rehab.tasks.send_weekly_digest",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
        "options": {"expires": 12 * 3600},
    },
    # Referral follow-up (issue 14, docs/referrals.md): no appointment 14 days after referral.
    "referral-reminders": {
        "task": "rehab.tasks.send_referral_reminders",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 12 * 3600},
    },
    # Issue 14 (docs/alerts.md): each clinic admin's daily summary of unacknowledged alerts.
    "admin-alert-summary": {
        "task": "rehab.tasks.send_admin_summary",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 12 * 3600},
    },
    # Issue 14 (C): a threshold change's re-evaluation whose task was lost (rehab/reevaluation.py).
    "reevaluation-relay": {
        "task": "rehab.tasks.relay_reevaluations",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}

# --- Email -------------------------------------------------------------------------------------
_email = parse_email_url(env_str("EMAIL_URL", "console://"))
EMAIL_BACKEND = str(_email.pop("EMAIL_BACKEND"))
for _key, _value in _email.items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PAIS rehab <no-reply@localhost>")

# --- Django REST Framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what makes DRF answer 401, not 403, to an
    # anonymous request.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rehab.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rehab.api.errors.exception_handler",
    # JSON only, nested at most 32 levels: deeper bodies are a 400, not a RecursionError (a 500).
    # (accounts.api.base.ApiView sets it too; this covers any view that does not build on it.)
    "DEFAULT_PARSER_CLASSES": ["accounts.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # ISO 8601 (date.isoformat()): strftime("%Y") does not pad years before 1000 to four digits,
    # and "270-04-11" is no date to a client (found by schemathesis, docs/security.md).
    "DATE_FORMAT": "iso-8601",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PAIS rehab tracker API",
    "DESCRIPTION": "API v1 for daily logs, episodes, prescriptions and interventions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files: no request leaves for a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # An alert's severity and status appear in two components (an alert, a resolved alert):
    # one name each.
    "ENUM_NAME_OVERRIDES": {
        "AlertSeverityEnum": "rehab.models.Severity",
        "AlertStatusEnum": "rehab.models.AlertStatus",
    },
}

# --- Product settings --------------------------------------------------------------------------
INVITATION_LIFETIME_DAYS = env_int("PAIS_INVITATION_LIFETIME_DAYS", 7)
# Once an invitation link has been opened, it works for this many more hours at most (never past
# its 7 days): a link somebody else opened cannot wait a week (docs/security.md, "Invitations").
PAIS_INVITATION_OPENED_LIFETIME_HOURS = env_int("PAIS_INVITATION_OPENED_LIFETIME_HOURS", 24)
# Password-reset links (Django's signed tokens) work for a day and only once.
PASSWORD_RESET_TIMEOUT = env_int("PAIS_PASSWORD_RESET_TIMEOUT_SECONDS", 24 * 3600)
# Reset emails per email address and hour, whoever asks (the public form or staff): beyond this
# the public form stays silent and staff get 429, so nobody can email-bomb a patient.
PAIS_PASSWORD_RESET_EMAILS_PER_HOUR = env_int("PAIS_PASSWORD_RESET_EMAILS_PER_HOUR", 3)
API_TOKEN_LIFETIME_DAYS = env_int("PAIS_API_TOKEN_LIFETIME_DAYS", 90)

# --- Sign-in security (docs/security.md) -------------------------------------------------------
# Failed passwords per account (by email address, known or not) within the window, and how long
# the account is then locked.
PAIS_LOGIN_FAILURE_LIMIT = env_int("PAIS_LOGIN_FAILURE_LIMIT", 10)
PAIS_LOGIN_FAILURE_WINDOW_SECONDS = env_int("PAIS_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
PAIS_LOGIN_LOCKOUT_SECONDS = env_int("PAIS_LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Wrong two-factor codes per user within the same window before code entry is locked.
PAIS_OTP_FAILURE_LIMIT = env_int("PAIS_OTP_FAILURE_LIMIT", 5)
# Requests per client IP address and minute to each sign-in endpoint (login page, token
# endpoint, invitation, two-factor code).
PAIS_AUTH_RATE_PER_MINUTE = env_int("PAIS_AUTH_RATE_PER_MINUTE", 30)
# How many reverse proxies in front of the app append to X-Forwarded-For; 0 trusts only
# REMOTE_ADDR. Behind one TLS proxy set 1, or every client shares the proxy's address.
PAIS_TRUSTED_PROXY_COUNT = env_int("PAIS_TRUSTED_PROXY_COUNT", 0)

# Sessions: staff (therapists, clinic admins, operators) are signed out after 30 minutes without
# a request and 12 hours after signing in; patients, on their own phone, after 30 days.
PAIS_STAFF_IDLE_TIMEOUT_SECONDS = env_int("PAIS_STAFF_IDLE_TIMEOUT_SECONDS", 30 * 60)
PAIS_STAFF_SESSION_LIFETIME_SECONDS = env_int("PAIS_STAFF_SESSION_LIFETIME_SECONDS", 12 * 3600)
PAIS_PATIENT_SESSION_LIFETIME_SECONDS = env_int(
    "PAIS_PATIENT_SESSION_LIFETIME_SECONDS", 30 * 24 * 3600
)
# The cookie and the server-side row last the patients' lifetime; a staff session gets 12 hours
# at sign-in (accounts/sessions.py), and the middleware enforces both from the sign-in time.
SESSION_COOKIE_AGE = PAIS_PATIENT_SESSION_LIFETIME_SECONDS
SESSION_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = env_str("PAIS_OTP_ISSUER", "PAIS rehab")

# --- Notifications (docs/webhooks.md) ----------------------------------------------------------
# Webhooks to private, loopback or link-local addresses are refused unless this is on: for tests
# and local runs only, never where clinic admins could point the server at its own network.
PAIS_WEBHOOK_ALLOW_PRIVATE = env_bool("PAIS_WEBHOOK_ALLOW_PRIVATE", False)
PAIS_WEBHOOK_TIMEOUT_SECONDS: float = env_int("PAIS_WEBHOOK_TIMEOUT_SECONDS", 10)
PAIS_DELIVERY_MAX_ATTEMPTS = env_int("PAIS_DELIVERY_MAX_ATTEMPTS", 8)
PAIS_DELIVERY_BACKOFF_BASE_SECONDS = env_int("PAIS_DELIVERY_BACKOFF_BASE_SECONDS", 30)
PAIS_DELIVERY_BACKOFF_MAX_SECONDS = env_int("PAIS_DELIVERY_BACKOFF_MAX_SECONDS", 6 * 3600)
# A row "sending" for longer than this is taken to have lost its worker and is sent again.
PAIS_DELIVERY_LEASE_SECONDS = env_int("PAIS_DELIVERY_LEASE_SECONDS", 600)
PAIS_DELIVERY_RELAY_BATCH = env_int("PAIS_DELIVERY_RELAY_BATCH", 500)

# --- Reminders and Web Push (docs/reminders.md) -----------------------------------------------
# The VAPID key pair, base64url, as printed by `manage.py vapid_keys`. Unset with DJANGO_DEBUG on,
# a pair is generated once into PAIS_VAR_DIR; unset in production, push is off (email only).
PAIS_VAPID_PUBLIC_KEY = env_str("PAIS_VAPID_PUBLIC_KEY", "")
PAIS_VAPID_PRIVATE_KEY = env_str("PAIS_VAPID_PRIVATE_KEY", "")
# Whom push services may contact about our messages: "mailto:ops@clinic.example" or an https URL
# (default: PAIS_SITE_URL).
PAIS_VAPID_SUBJECT = env_str("PAIS_VAPID_SUBJECT", "")
# A push endpoint is chosen by the patient's browser, so sending to it is guarded like a webhook:
# https and public addresses only. On for tests with a local push service only.
PAIS_PUSH_ALLOW_PRIVATE = env_bool("PAIS_PUSH_ALLOW_PRIVATE", False)
PAIS_PUSH_TIMEOUT_SECONDS: float = env_int("PAIS_PUSH_TIMEOUT_SECONDS", 10)

# --- Response headers and cookies (docs/security.md, "Deployment hardening") ------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# No Referer to other sites at all: our paths hold episode and patient ids.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One-time secrets in addresses (invitation and password-reset links) never reach a log:
    # django.request logs "Not Found: /invite/<token>/", django.server (runserver) every request
    # line. The handler's filter covers records of every other logger too.
    "filters": {"redact_secrets": {"()": "config.log_redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "loggers": {
        "django.request": {"filters": ["redact_secrets"]},
        # Django's default sends runserver's lines to a handler of its own, without propagating;
        # ours go through the console handler like the rest.
        "django.server": {"filters": ["redact_secrets"], "propagate": True},
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}
