"""What the member app API tests share: a member with a password, a controllable clock,
a hasher that counts."""

import datetime as dt
import threading

from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone

from clients.credentials import client_password_set
from tests.factories import ClientFactory

LOGIN_URL = "/api/v1/auth/login"
PASSWORD = "Correct-Horse-42"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def member_create(*, password: str | None = PASSWORD, **fields):
    """A client who can log in to the app with `password` (None: no app password)."""
    client = ClientFactory(**fields)
    if password is not None:
        client_password_set(client=client, password=password)
    return client


def login(api, identifier: str, password: str, ip: str = "203.0.113.7", device: str | None = None):
    body = {"identifier": identifier, "password": password, **({"device_id": device} if device else {})}
    return api.post(LOGIN_URL, body, content_type="application/json", REMOTE_ADDR=ip)


class CountingHasher(MD5PasswordHasher):
    """MD5 that counts its hashes (each check or make is one encode), from any thread.

    Use with settings.PASSWORD_HASHERS = COUNTING_HASHERS; reset with CountingHasher.reset().
    """

    algorithm = "counting_md5"
    calls = 0
    _lock = threading.Lock()

    def encode(self, password, salt):
        with CountingHasher._lock:
            CountingHasher.calls += 1
        return super().encode(password, salt)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.calls = 0


COUNTING_HASHERS = [f"{__name__}.CountingHasher"]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


class Clock:
    """Stands in for django.utils.timezone.now; tests move it instead of sleeping."""

    def __init__(self):
        self.now = timezone.now().replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now
