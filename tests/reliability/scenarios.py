"""One reliability scenario per vendor: how to build its fake, its integration, and a
snapshot of what its syncs produced, so a faulty run can be compared with a clean one."""

from collections.abc import Callable
from dataclasses import dataclass, field

from clients.models import Client
from integrations.models import Integration
from integrations.services import integration_save
from packages.models import ClientPackage


@dataclass
class Scenario:
    name: str
    kind: str
    make_sandbox: Callable[[], object]  # a fresh fake with the same seeded data every time
    settings: Callable[[str], dict]  # base URL -> settings
    secrets: dict
    syncs: list[str]
    http_options_target: type | None = None  # a connector class whose http_options tests may set
    extra_snapshot: Callable[[str], object] = field(default=lambda source: None)

    def integration(self, name: str, base_url: str) -> Integration:
        return integration_save(kind=self.kind, name=name, settings=self.settings(base_url),
                                secrets=self.secrets)

    def snapshot(self, source: str) -> dict:
        """What the syncs of `source` produced, without ids that differ between runs."""
        clients = sorted((*row[:-1], row[-1] is None) for row in Client.all_objects.filter(source=source)
                         .values_list("external_id", "first_name", "last_name", "email", "date_of_birth",
                                      "is_active", "alt_id", "deleted_at"))
        packages = sorted(ClientPackage.objects.filter(source=source).values_list(
            "alt_id", "client__external_id", "package__alt_id", "status", "start", "end", "credits_remaining"))
        return {"clients": clients, "packages": packages, "extra": self.extra_snapshot(source)}


def example_scenario() -> Scenario:
    from tests.integrations.example.connector import ExampleConnector
    from tests.integrations.example.sandbox import API_KEY, ExampleSandbox

    return Scenario(
        name="example", kind="example", make_sandbox=lambda: ExampleSandbox(members=300, seed=7),
        settings=lambda url: {"base_url": url, "member_minutes": 5}, secrets={"api_key": API_KEY},
        syncs=["members"], http_options_target=ExampleConnector,
    )


SCENARIOS: list[Callable[[], Scenario]] = [example_scenario]
