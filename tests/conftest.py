"""Shared fixtures."""

import pytest


@pytest.fixture
def manager(django_user_model):
    """A superuser gym manager."""
    return django_user_model.objects.create_superuser("manager", "manager@example.com", "pw-Manager-1")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client
