"""The project's settings with a fast password hasher: bench_login's "hashing nearly free" run."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
