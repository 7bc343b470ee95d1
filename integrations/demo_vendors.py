"""The demo's vendors: every sandbox served on 127.0.0.1, one integration per vendor
pointing at it, their initial syncs, and a little traffic so the staff pages move.

The framework knows no vendor here: a connector takes part by naming its `VendorDemo`
subclass in `Connector.demo` (as it names its sandbox), usually `<vendor>/demo.py`.
"""

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.db import transaction
from django.utils.module_loading import import_string

from integrations.connectors import connector_class, connector_classes
from integrations.models import Integration, SyncRun
from integrations.sandbox.transports import serve
from integrations.services import integration_save
from integrations.sync import sync_run


class VendorDemo(ABC):
    """How one vendor takes part in `make demo`; one instance holds its running sandbox.

    The hooks run in this order: `settings` when its integration is made, `prepare`
    before its initial syncs (door systems' syncs have run by then), `traffic` every tick.
    """

    order: int = 100  # vendors run lowest first: the door system first, member systems map onto its groups
    members: int = 0  # members its sandbox starts with
    url_path: str = ""  # where the vendor's API sits below the sandbox's root

    def __init__(self, *, fake):
        self.fake = fake

    @abstractmethod
    def settings(self, *, url: str) -> tuple[dict, dict]:
        """(settings, secrets) of the demo integration pointing at the sandbox's `url`."""

    def prepare(self, *, integration: Integration) -> None:  # noqa: B027 - optional hook, empty by default
        """Wiring the vendor needs before its initial syncs (e.g. a mapping onto door groups)."""

    def traffic(self, *, integration: Integration, web_url: str, rng: random.Random) -> str:
        """One tick of life at the vendor (an unlock, a visit, a booking): what happened, or ""."""
        return ""


@dataclass
class RunningSandbox:
    kind: str
    fake: object
    server: object
    url: str
    demo: VendorDemo


def _demo_kinds() -> list[str]:
    """The kinds whose connectors take part in the demo, in their demo order."""
    kinds = [kind for kind, connector in connector_classes().items() if connector.demo]
    return sorted(kinds, key=lambda kind: import_string(connector_class(kind).demo).order)


def demo_sandboxes_start(*, base_port: int) -> dict[str, RunningSandbox]:
    """Serve every vendor's sandbox in this process, on base_port, base_port + 1, ..."""
    running = {}
    for offset, kind in enumerate(_demo_kinds()):
        connector = connector_class(kind)
        demo_class = import_string(connector.demo)
        fake = import_string(connector.sandbox)(members=demo_class.members, seed=1)
        port = base_port + offset
        running[kind] = RunningSandbox(kind, fake, serve(fake, port=port), f"http://127.0.0.1:{port}/"
                                       f"{demo_class.url_path}", demo_class(fake=fake))
    return running


@transaction.atomic
def demo_integrations_ensure(*, sandboxes: dict[str, RunningSandbox]) -> dict[str, Integration]:
    """One integration per vendor pointing at its sandbox (created once, re-pointed after)."""
    made = {}
    for kind, running in sandboxes.items():
        settings, secrets = running.demo.settings(url=running.url)
        name = f"{connector_class(kind).label} (sandbox)"
        existing = Integration.objects.filter(kind=kind).first()
        made[kind] = integration_save(integration=existing, kind=kind, name=name, settings=settings,
                                      secrets=secrets)
    return made


def demo_initial_syncs(*, sandboxes: dict[str, RunningSandbox], integrations: dict[str, Integration],
                       echo) -> None:
    """Each integration's initial syncs, then the door systems' access reconcile, in order."""
    for kind, running in sandboxes.items():
        integration = integrations[kind]
        running.demo.prepare(integration=integration)
        connector = connector_class(kind)(integration)
        for name in connector.initial_sync_names():
            run = sync_run(integration=integration, sync_name=name, trigger=SyncRun.Trigger.INITIAL,
                           options={"initial": True})
            echo(f"  {integration.name}: {run.summary()}")
    for kind in sandboxes:
        if access_sync := connector_class(kind).access_sync:
            run = sync_run(integration=integrations[kind], sync_name=access_sync, trigger=SyncRun.Trigger.INITIAL)
            echo(f"  {integrations[kind].name}: {run.summary()}")


def demo_traffic(*, sandboxes: dict[str, RunningSandbox], integrations: dict[str, Integration],
                 web_url: str, rng: random.Random) -> str:
    """One tick of life at every vendor: e.g. a member opens a Kisi door, a visit in Perfect Gym."""
    told = [running.demo.traffic(integration=integrations[kind], web_url=web_url, rng=rng)
            for kind, running in sandboxes.items()]
    return ", ".join(filter(None, told))
