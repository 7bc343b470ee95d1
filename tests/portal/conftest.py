"""Fixtures for the member portal: a member who logs in with Gatehouse's own password, the
accessctl club (Riverside, a Kisi door, a test door backend), the example vendor."""

import pytest
from django.core.cache import cache

from clients.credentials import client_password_set
from tests.accessctl.conftest import door, doors_backend, location, member  # noqa: F401 - shared fixtures
from tests.api.helpers import FAST_HASHERS, PASSWORD
from tests.integrations.conftest import example_connector, integration, sandbox  # noqa: F401


@pytest.fixture(autouse=True)
def fast_and_fresh(settings, db):
    """Fast password hashing and empty throttle counts."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member_with_password(member):  # noqa: F811
    client_password_set(client=member, password=PASSWORD)
    return member


def portal_login(browser, identifier="ada@example.com", password=PASSWORD, ip="203.0.113.7", **extra):
    return browser.post("/portal/login", {"identifier": identifier, "password": password, **extra},
                        REMOTE_ADDR=ip)


@pytest.fixture
def logged_in(client, member_with_password):
    """A browser logged in to the portal as the member."""
    assert portal_login(client).status_code == 302
    return client
