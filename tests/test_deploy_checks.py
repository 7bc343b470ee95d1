"""Production refuses weak keys: `check --deploy` errors, and config.production will not load."""

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.checks import DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET_KEY = secrets.token_urlsafe(50)
GOOD_FERNET_KEY = Fernet.generate_key().decode()


def deploy_check_errors() -> set[str]:
    """The gatehouse.* ids `manage.py check --deploy` fails with (none when it passes)."""
    try:
        call_command("check", deploy=True, tags=["security"], stdout=io.StringIO())
    except SystemCheckError as failed:
        return {word.strip("()") for word in str(failed).split() if word.startswith("(gatehouse.")}
    return set()


@pytest.mark.parametrize(("secret_key", "keys", "expected"), [
    (DEV_SECRET_KEY, [GOOD_FERNET_KEY], {"gatehouse.E001"}),
    (GOOD_SECRET_KEY, [DEV_FIELD_ENCRYPTION_KEY], {"gatehouse.E002"}),
    (GOOD_SECRET_KEY, [GOOD_FERNET_KEY, DEV_FIELD_ENCRYPTION_KEY], {"gatehouse.E002"}),  # even as an old key
    (GOOD_SECRET_KEY, [], {"gatehouse.E003"}),
    (GOOD_SECRET_KEY, [" "], {"gatehouse.E003"}),
    (GOOD_SECRET_KEY, [GOOD_FERNET_KEY, "not-a-fernet-key"], {"gatehouse.E004"}),
    (GOOD_SECRET_KEY, [GOOD_FERNET_KEY[:-4] + "===="], {"gatehouse.E004"}),  # 29 bytes, not 32
    (GOOD_SECRET_KEY, [GOOD_FERNET_KEY], set()),
], ids=["dev secret key", "dev fernet key", "dev fernet key second", "no keys", "blank key", "not base64",
        "short key", "good keys"])
def test_check_deploy_refuses_weak_keys(settings, secret_key, keys, expected):
    settings.SECRET_KEY = secret_key
    settings.FIELD_ENCRYPTION_KEYS = keys
    assert deploy_check_errors() == expected


def test_the_messages_never_show_a_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [DEV_FIELD_ENCRYPTION_KEY, "zzzz-secret-looking-value"]
    with pytest.raises(SystemCheckError) as failed:
        call_command("check", deploy=True, tags=["security"], stdout=io.StringIO())
    assert DEV_FIELD_ENCRYPTION_KEY not in str(failed.value) and "zzzz" not in str(failed.value)
    assert "entry 2 is not a valid Fernet key" in str(failed.value)


def production_check(**overrides: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never would.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**inherited, "SECRET_KEY": GOOD_SECRET_KEY, "FIELD_ENCRYPTION_KEYS": GOOD_FERNET_KEY,
           "ALLOWED_HOSTS": "gatehouse.example.com", "DJANGO_SETTINGS_MODULE": "config.production", **overrides}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("overrides", "error"), [
    ({"FIELD_ENCRYPTION_KEYS": DEV_FIELD_ENCRYPTION_KEY}, "gatehouse.E002"),
    ({"FIELD_ENCRYPTION_KEYS": ""}, "gatehouse.E003"),
    ({"FIELD_ENCRYPTION_KEYS": f"{GOOD_FERNET_KEY},short"}, "gatehouse.E004"),
    ({"SECRET_KEY": DEV_SECRET_KEY}, "gatehouse.E001"),
], ids=["dev fernet key", "empty key list", "bad fernet key", "dev secret key"])
def test_production_will_not_start_with_weak_keys(overrides, error):
    done = production_check(**overrides)
    assert done.returncode != 0 and error in done.stderr
    assert "System check identified no issues" not in done.stdout


def test_production_passes_with_good_keys():
    done = production_check()
    assert done.returncode == 0, done.stderr[-2000:]
    assert "System check identified no issues" in done.stdout
