"""Fixtures for the framework tests: the example vendor, its sandbox and integration."""

import pytest
import responses

from integrations.sandbox.transports import mount
from integrations.services import integration_save
from tests.integrations.example.connector import ExampleConnector
from tests.integrations.example.sandbox import API_KEY, ExampleSandbox

EXAMPLE_URL = "https://example.test/api/"
WEBHOOK_SECRET = "whsec-example-7781"


@pytest.fixture(autouse=True)
def example_connector(settings, monkeypatch):
    settings.INTEGRATION_CONNECTORS = [
        *settings.INTEGRATION_CONNECTORS, "tests.integrations.example.connector.ExampleConnector"
    ]
    sleeps: list[float] = []
    monkeypatch.setattr(ExampleConnector, "http_options", {"sleep": sleeps.append, "backoff": 0.01})
    return sleeps


@pytest.fixture
def sandbox():
    fake = ExampleSandbox(members=5)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mount(fake, mock, EXAMPLE_URL)
        yield fake


@pytest.fixture
def integration(db):
    return integration_save(
        kind="example", name="Example club", settings={"base_url": EXAMPLE_URL, "member_minutes": 5},
        secrets={"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET},
    )
