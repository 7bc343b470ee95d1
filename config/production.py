"""Production mode: the base settings, hardened so `manage.py check --deploy` is clean.

Use with DJANGO_SETTINGS_MODULE=config.production; SECRET_KEY and FIELD_ENCRYPTION_KEYS
must come from the environment (there is no default here), and the public development
keys, an empty key list or a malformed Fernet key stop it at import (config.checks).
"""

from django.core.exceptions import ImproperlyConfigured

from .checks import key_errors
from .settings import *  # noqa: F403
from .settings import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
if weak := key_errors(secret_key=SECRET_KEY, field_encryption_keys=FIELD_ENCRYPTION_KEYS):
    raise ImproperlyConfigured(" ".join(f"{error.msg} {error.hint} ({error.id})" for error in weak))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
# An integration's Base URL must be https unless this is turned on (integrations.services).
INTEGRATION_ALLOW_HTTP = env.bool("INTEGRATION_ALLOW_HTTP", default=False)
