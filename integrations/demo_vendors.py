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
    before its initial syncs (door systems' syncs have run by then), `ready` once every
    vendor's initial syncs have run (or were skipped), `traffic` every tick.
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

    def ready(self, *, integration: Integration) -> None:  # noqa: B027 - optional hook, empty by default
        """What the demo sets up on what the syncs brought (e.g. the app's rules on imported doors)."""

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


def demo_kinds() -> list[str]:
    """The kinds whose connectors take part in the demo, in their demo order."""
    kinds = [kind for kind, connector in connector_classes().items() if connector.demo]
    return sorted(kinds, key=lambda kind: import_string(connector_class(kind).demo).order)


class SandboxPortTaken(OSError):
    """A sandbox's port could not be listened on (another program holds it)."""

    def __init__(self, *, port: int, kind: str):
        super().__init__(f"port {port} (the {kind} sandbox's) is taken")
        self.port, self.kind = port, kind


def demo_sandboxes_start(*, base_port: int) -> dict[str, RunningSandbox]:
    """Serve every vendor's sandbox in this process, on base_port, base_port + 1, ...

    Raises SandboxPortTaken (having stopped the ones it started) when a port is taken.
    """
    running = {}
    for offset, kind in enumerate(demo_kinds()):
        connector = connector_class(kind)
        demo_class = import_string(connector.demo)
        fake = import_string(connector.sandbox)(members=demo_class.members, seed=1)
        port = base_port + offset
        try:
            server = serve(fake, port=port)
        except OSError:
            demo_sandboxes_stop(running)
            raise SandboxPortTaken(port=port, kind=kind) from None
        running[kind] = RunningSandbox(kind, fake, server, f"http://127.0.0.1:{port}/{demo_class.url_path}",
                                       demo_class(fake=fake))
    return running


def demo_sandboxes_stop(sandboxes: dict[str, RunningSandbox]) -> None:
    """Stop serving every sandbox and free its port."""
    for running in sandboxes.values():
        running.server.shutdown()
        running.server.server_close()


@transaction.atomic
def demo_integrations_ensure(*, sandboxes: dict[str, RunningSandbox], echo=lambda line: None) -> dict[str, Integration]:
    """One demo integration per vendor pointing at its sandbox: made once (Integration.is_demo),
    re-pointed on every start. An operator's own integrations are never renamed or re-pointed:
    a name one of them holds is not taken, and a vendor allowing one integration per
    organisation (Connector.single_instance) that the operator already has sits the demo out."""
    made = {}
    for kind, running in sandboxes.items():
        connector = connector_class(kind)
        existing = Integration.objects.filter(kind=kind, is_demo=True).order_by("pk").first()
        if existing is None and connector.single_instance and Integration.objects.filter(kind=kind).exists():
            echo(f"{connector.label}: left out; your own {connector.label} integration is the only one allowed.")
            continue
        settings, secrets = running.demo.settings(url=running.url)
        name = existing.name if existing else _name_free(f"{connector.label} (sandbox)")
        made[kind] = integration_save(integration=existing, kind=kind, name=name, settings=settings,
                                      secrets=secrets, is_demo=True)
    return made


def _name_free(name: str) -> str:
    """`name`, or `name 2`, `name 3`, ... when an integration already holds it."""
    taken = set(Integration.objects.filter(name__startswith=name).values_list("name", flat=True))
    return next(candidate for n in range(1, len(taken) + 2)
                if (candidate := name if n == 1 else f"{name} {n}") not in taken)


def demo_initial_syncs(*, sandboxes: dict[str, RunningSandbox], integrations: dict[str, Integration],
                       echo) -> None:
    """Each integration's initial syncs, then the door systems' access reconcile, in order."""
    for kind, integration in integrations.items():
        sandboxes[kind].demo.prepare(integration=integration)
        connector = connector_class(kind)(integration)
        for name in connector.initial_sync_names():
            run = sync_run(integration=integration, sync_name=name, trigger=SyncRun.Trigger.INITIAL,
                           options={"initial": True})
            echo(f"  {integration.name}: {run.summary()}")
    for kind in integrations:
        if access_sync := connector_class(kind).access_sync:
            run = sync_run(integration=integrations[kind], sync_name=access_sync, trigger=SyncRun.Trigger.INITIAL)
            echo(f"  {integrations[kind].name}: {run.summary()}")


def demo_traffic(*, sandboxes: dict[str, RunningSandbox], integrations: dict[str, Integration],
                 web_url: str, rng: random.Random) -> str:
    """One tick of life at every vendor: e.g. a member opens a Kisi door, a visit in Perfect Gym."""
    told = [sandboxes[kind].demo.traffic(integration=integration, web_url=web_url, rng=rng)
            for kind, integration in integrations.items()]
    return ", ".join(filter(None, told))


def demo_ready(*, sandboxes: dict[str, RunningSandbox], integrations: dict[str, Integration]) -> None:
    """Every vendor's `ready` hook, once the initial syncs have run (or were skipped)."""
    for kind, integration in integrations.items():
        sandboxes[kind].demo.ready(integration=integration)
