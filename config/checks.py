"""Deploy checks: production refuses the public development keys and unusable Fernet keys.

`manage.py check --deploy` reports these as errors (tag `security`); config.production
raises ImproperlyConfigured with the same messages at import, so a web process never
starts with them. No message ever shows a key.
"""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register

# Public (they are in the repository): fine for development, refused by the checks below.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdef"  # noqa: S105 (public on purpose)
DEV_FIELD_ENCRYPTION_KEY = "Z2F0ZWhvdXNlLWRldi1vbmx5LWtleS0wMDAwMDAwMDA="


def key_errors(*, secret_key: str, field_encryption_keys: list[str]) -> list[Error]:
    """What is wrong with these keys for production (empty when nothing is)."""
    errors = []
    if secret_key == DEV_SECRET_KEY:
        errors.append(Error("SECRET_KEY is the public development key.",
                            hint="Set SECRET_KEY to a long random value of your own.", id="gatehouse.E001"))
    keys = [key.strip() for key in field_encryption_keys if key.strip()]
    if not keys:
        errors.append(Error("FIELD_ENCRYPTION_KEYS is empty: integration secrets cannot be stored.",
                            hint="Set FIELD_ENCRYPTION_KEYS to a key from Fernet.generate_key().",
                            id="gatehouse.E003"))
    if DEV_FIELD_ENCRYPTION_KEY in keys:
        errors.append(Error("FIELD_ENCRYPTION_KEYS contains the public development key.",
                            hint="Generate a key of your own, put it first, and run manage.py rotate_secrets.",
                            id="gatehouse.E002"))
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(Error(f"FIELD_ENCRYPTION_KEYS entry {number} is not a valid Fernet key.",
                                hint="Each entry is 32 url-safe base64-encoded bytes (Fernet.generate_key()).",
                                id="gatehouse.E004"))
    return errors


@register(Tags.security, deploy=True)
def production_keys_check(app_configs=None, **kwargs) -> list[Error]:
    """The deploy check over the configured SECRET_KEY and FIELD_ENCRYPTION_KEYS."""
    return key_errors(secret_key=settings.SECRET_KEY, field_encryption_keys=list(settings.FIELD_ENCRYPTION_KEYS))
