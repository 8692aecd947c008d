"""Test settings: the production settings with a throw-away key and eager-free Celery."""

import os
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("EMAIL_URL", "consolemail://")
# Counters, pages and sessions in memory unless a test run points them at Redis.
os.environ.setdefault("REDIS_CACHE_URL", "")

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import BASE_DIR, S3_BUCKET
from .settings import STORAGES as PRODUCTION_STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Uploads go to the local disk, or with TEST_STORAGE=s3 (set by .ci/run, with the S3_* variables
# of the SeaweedFS it starts) to the bucket, each test run under its own prefix.
TEST_STORAGE = os.environ.get("TEST_STORAGE", "disk")
if TEST_STORAGE == "s3":
    if not S3_BUCKET:
        raise ImproperlyConfigured("TEST_STORAGE=s3 needs S3_BUCKET, S3_ENDPOINT_URL and the S3 keys.")
    _uploads: dict[str, Any] = {**PRODUCTION_STORAGES["default"]}
    _uploads["OPTIONS"] = {**_uploads["OPTIONS"], "location": f"test-run-{os.getpid()}"}
elif TEST_STORAGE == "disk":
    _uploads = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"TEST_STORAGE is 'disk' or 's3', not {TEST_STORAGE!r}.")
STORAGES = {
    "default": _uploads,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# WhiteNoise warns about a missing STATIC_ROOT; tests serve static files through the finders.
STATIC_ROOT = BASE_DIR / "var" / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Tasks run inline so a test sees the mail a service queued after commit.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

TEMPLATES[0]["DIRS"] = [BASE_DIR / "templates", BASE_DIR / "tests" / "templates"]  # noqa: F405
# The payment system pays at once unless a test asks for the webhook flow.
PAYMENT_GATEWAY = "simulated"
PAYMENT_WEBHOOK_SECRET = "test-webhook-secret"
TRACKING_WEBHOOK_SECRET = "test-tracking-secret"
MARKETPLACE_FEED_SECRET = "test-marketplace-feed-secret"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the browser tests' live server answers in several threads at once (a
    # page and its pictures), and an in-memory test database is one connection shared by all of
    # them, which lost a signed-in session now and then. One file per test process.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"helpcenter-test-{os.getpid()}.sqlite3")
    }
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20  # noqa: F405
# Image slots of this test process alone: other test runs on the machine do not take them.
UPLOAD_IMAGE_SLOT_DIR = Path(tempfile.gettempdir()) / f"helpcenter-test-image-slots-{os.getpid()}"
