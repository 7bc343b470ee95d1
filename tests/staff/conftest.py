from tests.integrations.conftest import example_connector, integration, sandbox  # noqa: F401
