"""The reliability suite: faults, killed workers, concurrent workers, a dropped database."""

import pytest

from tests.integrations.conftest import example_connector  # noqa: F401


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)
