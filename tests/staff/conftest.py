import pytest

from integrations.example.sandbox import ExampleSandbox
from integrations.sandbox.transports import mounted
from tests.accessctl.conftest import doors_backend  # noqa: F401
from tests.integrations.conftest import EXAMPLE_URL, example_connector, integration, sandbox  # noqa: F401
from tests.staff.roles import Outside


@pytest.fixture
def outside(doors_backend):  # noqa: F811 - the imported fixture
    """The example vendor under `responses` (a call to any other address is refused and
    recorded too) and a recording door backend: what a refused request leaves untouched."""
    with mounted((ExampleSandbox(members=5), EXAMPLE_URL)) as vendor:
        yield Outside(vendor)
