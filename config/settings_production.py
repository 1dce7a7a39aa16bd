"""Production settings: everything from config.settings, hardened.

Refuses to start without SECRET_KEY; passes `manage.py check --deploy`. Run behind a TLS
proxy that sets X-Forwarded-Proto.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import env_bool

if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment for production.")
SECRET_KEY = os.environ["SECRET_KEY"]
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with 5 distinct ones.")

DEBUG = env_bool("DEBUG", False)

# The API takes sessions and service accounts' tokens only: no person's password over Basic
# (docs/security.md): API_BASIC_AUTH refuses to start, and the Basic class is not listed.
if env_bool("API_BASIC_AUTH", False):
    raise ImproperlyConfigured(
        "API_BASIC_AUTH is for development only; integrations use API tokens in production."
    )
API_BASIC_AUTH = False
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_AUTHENTICATION_CLASSES": [
        name
        for name in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]  # noqa: F405
        if name != "core.auth.DevelopmentBasicAuthentication"
    ],
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Load balancers probe over plain HTTP, often straight to this host: /healthz answers there
# instead of redirecting to HTTPS. The probe's Host header must still be in ALLOWED_HOSTS
# (docs/deployment.md, "Health check").
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Static files: `manage.py collectstatic` (the web line of Procfile.production runs it) writes
# STATIC_ROOT with content-hashed, compressed copies; WhiteNoise serves them from there with
# far-future cache headers. Nothing is looked up in the apps' folders at request time.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
