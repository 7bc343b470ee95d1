"""Fixtures for the member app API tests."""

import pytest
from django.core.cache import cache

from tests.api.helpers import FAST_HASHERS, Clock


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """PBKDF2's million iterations would make every login take half a second."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def fresh_throttles(db):
    """Throttle counts live in the shared cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr("django.utils.timezone.now", fake)
    return fake
