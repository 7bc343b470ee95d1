"""Shared fixtures."""

import pytest
from django.core.cache import cache


@pytest.fixture
def manager(django_user_model):
    """A superuser gym manager."""
    return django_user_model.objects.create_superuser("manager", "manager@example.com", "pw-Manager-1")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def fast_and_fresh(settings, db):
    """Fast password hashing and empty throttle counts (`pytest.mark.usefixtures` in login tests)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()
