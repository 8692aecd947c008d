"""Settings read from the environment.

Production is the default: with DJANGO_DEBUG unset, a secret key and allowed hosts must be
given. `make run` sets DJANGO_DEBUG=1 and so runs on embedded defaults (SQLite, a filesystem
Celery broker, console e-mail) with nothing else installed.
"""

import tempfile
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-not-for-production-use-0123456789abcdef"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "helpcenter.admin_site.HelpCentreAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "core",
    "accounts",
    "orders",
    "faq",
    "disputes",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Kept help-centre pages for anonymous visitors, before the signed-in visitor's middleware.
    "faq.middleware.KeptFaqPageMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SignInDeviceMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "accounts.middleware.BlockedAccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.UploadRedirectMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "helpcenter.urls"
WSGI_APPLICATION = "helpcenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.account_menu",
                "accounts.context_processors.time_zone_label",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if "DATABASE_URL" not in env.ENVIRON:
    # The embedded default lives in var/, which a fresh clone does not have yet.
    VAR_DIR.mkdir(exist_ok=True)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Date and time formats that name the zone (core/formats/): every date says its zone.
FORMAT_MODULE_PATH = ["core.formats"]
USE_TZ = True
TIME_ZONE = "UTC"
# Shown to visitors who have not picked a zone; most buyers of the source material are in Russia.
DEFAULT_USER_TIME_ZONE = env.str("DEFAULT_USER_TIME_ZONE", default="Europe/Moscow")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded files live outside the static web root and are served only through views that check
# who is asking: on the local disk (MEDIA_ROOT, the embedded default), or, when S3_BUCKET is set,
# as private objects in an S3-compatible bucket (SeaweedFS in docker-compose and CI).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media-not-served/"
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "core.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            # Empty for AWS itself; the server's address for SeaweedFS, MinIO and the like.
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            # Empty keys fall back to boto3's own chain (an instance role, AWS_* variables).
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("S3_REGION", default="us-east-1"),
            # SeaweedFS and MinIO answer on one host name, without a DNS name per bucket.
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="path"),
            "querystring_expire": env.int("S3_SIGNED_URL_SECONDS", default=120),
            # Each storage call: seconds to connect, seconds to wait for each answer, and attempts
            # (the first included), so an upload to a frozen server fails within 15 s.
            "connect_timeout": env.float("S3_CONNECT_TIMEOUT_SECONDS", default=3),
            "read_timeout": env.float("S3_READ_TIMEOUT_SECONDS", default=6),
            "max_attempts": env.int("S3_MAX_ATTEMPTS", default=2),
        },
    }

# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 (console output by default).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else environ.Env.NOTSET)
_smtp_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS", False),
    "use_ssl": _email.get("EMAIL_USE_SSL", False),
    "timeout": 30,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": (
            {key: value for key, value in _smtp_options.items() if value not in (None, "")}
            if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Защита покупателя <noreply@helpcenter.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A worker that took a mail from the outbox holds it this long; only then may the outbox sweep send
# it again (the worker may have died after the SMTP server took it). Far above the SMTP timeout.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=600)
# The header a provider reads as an idempotency key over SMTP, if it has one (Resend:
# "Resend-Idempotency-Key"); empty sends none. Its value is the mail's Message-ID digest.
EMAIL_IDEMPOTENCY_HEADER = env.str("EMAIL_IDEMPOTENCY_HEADER", default="")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery. The default broker is kombu's filesystem transport so `make run` needs no server;
# production and CI point CELERY_BROKER_URL at Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FILESYSTEM_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "processed"),
        # Otherwise kombu writes its exchange tables into control/ in the working directory.
        "control_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
    # The transport does not create its folders, and a worker would fail on the first poll.
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than any task runs; deadlines never rely on ETA tasks, so nothing waits this long.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Buyer-protection rules (DESIGN.md); named here so the pages, the services and the sweeps
# read the same numbers.
PROTECTION_MAX_DAYS = 90
CONFIRM_DELIVERY_REMINDER_DAYS = env.int("CONFIRM_DELIVERY_REMINDER_DAYS", default=5)
DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS = 15
# A buyer asks to cancel an order awaiting shipment: the seller agrees or ships within this many
# days, or the order is cancelled and refunded.
ORDER_CANCEL_SELLER_DAYS = env.int("ORDER_CANCEL_SELLER_DAYS", default=3)
# Help-centre searches (stored without who searched) are deleted after this many days.
SEARCH_LOG_RETENTION_DAYS = 90
# A parcel with no new tracking event for this many days is shown as stalled.
TRACKING_STALL_DAYS = env.int("TRACKING_STALL_DAYS", default=10)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# The cache holds the sign-in, sign-up, reset and upload counters, the public help-centre pages
# (faq/pagecache.py) and, in production, the sessions. Production runs several web processes on
# several machines, and each must see the same counters, the same page versions and the same
# sessions: REDIS_CACHE_URL is required there. Development and tests keep them in memory.
_cache_url = env.str("REDIS_CACHE_URL", default="" if DEBUG else environ.Env.NOTSET)
# Seconds one Redis call may wait to connect, and then for the answer. redis-py waits 5 s by
# default; a Redis that hangs (paused, swapping, a network partition) would then hold a gunicorn
# worker for 5 s per call, and a page makes several. Redis answers in well under a millisecond, so
# half a second is a failure, not a slow answer: the page then gets what it gets while Redis is
# unreachable (docs/security.md, "When Redis is unreachable"). Connections are not retried.
REDIS_CACHE_TIMEOUT_SECONDS = env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=0.5)
# What a page that needed Redis tells the browser (the Retry-After header of the 503 page).
REDIS_OUTAGE_RETRY_AFTER_SECONDS = 30
if _cache_url:
    # Django's Redis cache with one redis-py client kept per process (core/redis_cache.py).
    _redis_options = {
        "socket_connect_timeout": REDIS_CACHE_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_CACHE_TIMEOUT_SECONDS,
    }
    CACHES = {
        "default": {
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": _redis_options,
        },
        # Sessions apart from the rest, so that clearing the page cache never signs anyone out.
        "sessions": {
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "session",
            "OPTIONS": _redis_options,
        },
    }
    # Django's cache sessions, except that a session Redis cannot be asked for is an outage (a 503
    # page that keeps the cookie), not a missing session that signs the person out (core/sessions.py).
    SESSION_ENGINE = "core.sessions"
    SESSION_CACHE_ALIAS = "sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered list rows (core/fragments.py): in each process's memory, keyed on what they show.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": env.int("FRAGMENT_CACHE_SECONDS", default=3600),
    "OPTIONS": {"MAX_ENTRIES": env.int("FRAGMENT_CACHE_ENTRIES", default=5000)},
}
# How many proxies of our own put the client's address in X-Forwarded-For (0: trust none).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# A person's permissions are kept in the cache and read again after any change to groups or
# permissions (accounts/permission_cache.py); this bounds an entry that a raw SQL change missed.
PERMISSION_CACHE_SECONDS = env.int("PERMISSION_CACHE_SECONDS", default=300)

# Signing in, signing up and password reset (accounts/auth.py). Sign in by username or e-mail, on
# every sign-in form (admin's too) held to the limits of accounts/signin_limits.py, which no
# stranger can turn against the account's owner (docs/security.md, "Signing in and blocking").
AUTHENTICATION_BACKENDS = ["accounts.auth.SignInBackend"]
# Hard blocks, in a window: wrong passwords for one account from one address; from one address.
SIGNIN_FAILURES_PER_ACCOUNT_ADDRESS = 5
SIGNIN_FAILURES_PER_ADDRESS = 20
SIGNIN_WINDOW_MINUTES = 15
# Per account, from any address, never a refusal: after this many wrong passwords in a run (no
# gap longer than the quiet time), each try waits the first delay, doubling, at most the maximum.
SIGNIN_DELAY_AFTER_FAILURES = 5
SIGNIN_DELAY_FIRST_SECONDS = 2
SIGNIN_DELAY_MAX_SECONDS = 120
SIGNIN_STREAK_QUIET_MINUTES = 60
# The owner gets one letter per run, at this many wrong passwords.
SIGNIN_NOTIFY_AFTER_FAILURES = 10
# A browser that signed in is a known device for this long after its last sign-in: checked at
# once, past every block and delay, until it fails this many times in the window itself.
SIGNIN_DEVICE_COOKIE_NAME = "signin_device"
SIGNIN_DEVICE_COOKIE_DAYS = 180
SIGNIN_FAILURES_PER_DEVICE = 5
# Reset letters asked for, per client address and per address typed, in a window.
PASSWORD_RESET_PER_ADDRESS = 10
PASSWORD_RESET_PER_EMAIL = 3
PASSWORD_RESET_WINDOW_MINUTES = 60
# Sign-ups asked for (each sends a letter), per client address and per address typed.
SIGNUP_PER_ADDRESS = 10
SIGNUP_PER_EMAIL = 3
SIGNUP_WINDOW_MINUTES = 60
# How long the link in the "finish signing up" letter works.
SIGNUP_LINK_HOURS = 48

# Absolute links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Knowledge base.
FAQ_IMAGE_MAX_BYTES = 5 * 1024 * 1024
# Public help-centre pages are kept whole for visitors who are not signed in; publishing or
# editing starts a new version at once, so this only bounds how long an old version takes room.
# 0 turns the page cache off.
FAQ_PAGE_CACHE_SECONDS = env.int("FAQ_PAGE_CACHE_SECONDS", default=600)
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="support@helpcenter.local")

# The store record beside each claim and on the store page in admin is counted at most this
# many seconds ago (disputes/store_record.py); its own page and CSV always count afresh.
STORE_RECORD_CACHE_SECONDS = env.int("STORE_RECORD_CACHE_SECONDS", default=300)

# Dispute deadlines (DESIGN.md), in days.
DISPUTE_SELLER_ANSWER_DAYS = 5
DISPUTE_ESCALATION_AFTER_DAYS = 3
DISPUTE_AUTO_CLAIM_AFTER_DAYS = 15
DISPUTE_RETURN_SHIP_DAYS = 10
CLAIM_DECISION_FLAG_DAYS = 15
CLAIM_DECISION_OVERDUE_DAYS = 60
CLAIM_APPEAL_DAYS = 7
# How often beat runs each deadline sweep (seconds). Tests of the real worker shorten it.
DEADLINE_SWEEP_SECONDS = env.float("DEADLINE_SWEEP_SECONDS", default=60.0)
# Refunds: a refund the payment system has not acknowledged this long after it was requested is
# sent again by the refunds sweep; one still "preparing" after REFUND_STALE_HOURS is flagged.
REFUND_RETRY_AFTER_SECONDS = 300
REFUND_STALE_HOURS = env.int("REFUND_STALE_HOURS", default=72)
# "simulated" pays at once (development, tests); "external" waits for the payment system's
# signed webhook (POST /payments/webhook/) or for staff to confirm the refund in admin.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="simulated" if DEBUG else "external")
PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET", default="")
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 300
TRACKING_WEBHOOK_SECRET = env.str("TRACKING_WEBHOOK_SECRET", default="")
TRACKING_WEBHOOK_TOLERANCE_SECONDS = 300
# Beside a marketplace (docs/deploy.md, "Beside a marketplace"). The marketplace signs its order
# events (POST /marketplace/orders/events/) with MARKETPLACE_FEED_SECRET; without one the endpoint
# answers 503. `make run` (DEBUG) has a development secret, so the demo's own events and
# docs/marketplace/sign_event.py work out of the box.
MARKETPLACE_FEED_SECRET = env.str("MARKETPLACE_FEED_SECRET", default="dev-marketplace-feed-secret" if DEBUG else "")
MARKETPLACE_FEED_TOLERANCE_SECONDS = 300
# Where the help centre tells the marketplace what happened to a dispute, signed with its own secret;
# without a URL nothing is sent (core/webhooks.py).
MARKETPLACE_WEBHOOK_URL = env.str("MARKETPLACE_WEBHOOK_URL", default="")
MARKETPLACE_WEBHOOK_SECRET = env.str("MARKETPLACE_WEBHOOK_SECRET", default="")
MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS = env.float("MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Signing in with the marketplace account: OpenID Connect (mozilla-django-oidc, accounts/oidc.py).
# Off while MARKETPLACE_OIDC_CLIENT_ID is empty: then only local passwords sign in.
OIDC_RP_CLIENT_ID = env.str("MARKETPLACE_OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("MARKETPLACE_OIDC_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("MARKETPLACE_OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("MARKETPLACE_OIDC_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("MARKETPLACE_OIDC_USERINFO_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("MARKETPLACE_OIDC_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env.str("MARKETPLACE_OIDC_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("MARKETPLACE_OIDC_SCOPES", default="openid email profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
# The name on the sign-in button ("Войти через <name>").
MARKETPLACE_NAME = env.str("MARKETPLACE_NAME", default="")
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "accounts.oidc.MarketplaceSignInBackend"]
# Claims: the longest and the default time an arbitrator gives the parties to send evidence.
CLAIM_EVIDENCE_DAYS = 5
CLAIM_EVIDENCE_MAX_DAYS = 14
# A decision's reason is read by both parties: it must say something.
CLAIM_REASON_MIN_LENGTH = 80
APPEAL_REASON_MIN_LENGTH = 30
# Reports (reports/): how long the reported party has to answer once notified, the reminder
# before that, how many reports one user may file an hour, and the shortest texts that say something.
REPORT_ANSWER_DAYS = 5
REPORT_REMINDER_HOURS = 24
REPORTS_PER_HOUR = env.int("REPORTS_PER_HOUR", default=5)
REPORT_DESCRIPTION_MIN_LENGTH = 20
REPORT_DECISION_MIN_LENGTH = 20
# Evidence uploads (disputes, reports), stated on the forms.
UPLOAD_MAX_FILES = 8
UPLOAD_IMAGE_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_PDF_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_VIDEO_MAX_BYTES = 100 * 1024 * 1024
# Files a user uploaded that no message took yet: at most this many bytes, deleted after a day.
UPLOAD_UNCLAIMED_QUOTA_BYTES = env.int("UPLOAD_UNCLAIMED_QUOTA_BYTES", default=300 * 1024 * 1024)
UPLOAD_UNCLAIMED_HOURS = 24
UPLOAD_RATE_FILES_PER_HOUR = env.int("UPLOAD_RATE_FILES_PER_HOUR", default=60)
# How many requests of one machine may decode images at once (core/image_slots.py): fewer than
# gunicorn's workers there, so one worker is always free for other pages; a request that finds
# none free within the wait is told to try again in a minute. The folder holds the slots' lock
# files, shared by every web process of the machine.
UPLOAD_IMAGE_SLOTS = env.int("UPLOAD_IMAGE_SLOTS", default=2)
UPLOAD_IMAGE_SLOT_WAIT_SECONDS = 0.2
UPLOAD_IMAGE_SLOT_DIR = env.path(
    "UPLOAD_IMAGE_SLOT_DIR", default=Path(tempfile.gettempdir()) / "helpcenter-image-slots"
)
# Uploads above 5 MB spill to a temporary file; any file above the largest limit is skipped while
# it is being received (core.uploads.CappedUploadHandler) instead of being read whole.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "core.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
