"""Every registered connector has the one vendor layout (integrations/example/ is the one to
copy) and declares its syncs the one way: a SyncSpec naming its SyncJob, which the engine
builds; no connector dispatches by sync name."""

import importlib
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from integrations.connectors import Connector, connector_classes
from integrations.errors import PermanentError
from integrations.models import Integration
from integrations.sandbox import Sandbox
from integrations.sync import SyncJob

CONNECTORS = sorted(connector_classes().items())
pytestmark = pytest.mark.django_db  # some jobs read the club records as they are built

# Every vendor package has these (a module, or a package of modules: Kisi's syncs/).
REQUIRED = {"client", "mapping", "syncs", "connector", "sandbox"}
# ... and may have these, with the meaning they have in every Django app, and `changes`
# (the poller's cheap question, changes_waiting: integrations.polling) and `records` (the
# typed records client.py reads and sends, when they would make client.py too long).
OPTIONAL = {"models", "services", "selectors", "admin", "webhooks", "demo", "apps", "migrations", "changes",
            "records"}
# Anything else is a vendor's own helper, listed here with why it is not one of the above.
HELPERS = {
    "perfectgym": {
        "clubs": "club number <-> Location lookups, shared by the syncs and the location form",
        "sandbox_odata": "the OData query subset the sandbox answers ($filter, paging)",
    },
    "gladstone": {
        "audit": "the daily SubTypeID audit and its e-mail (Connector.audit)",
        "contract": "the SOAP operations and field names the client, sandbox and tests share",
        "fields": "the settings form's many fields and their validation",
        "lookups": "club records the mapping looks things up in (sites, packages, tiers)",
        "tokens": "the partner app's encrypted member-id tokens (member login)",
    },
    "glofox": {
        "checkins": "check-ins sent to Glofox after door accesses (outbound)",
        "forms": "the configuration inline form listing Glofox's membership types",
        "signals": "a configuration's access rules deleted with it",
    },
    "kisi": {
        "contract": "the exact REST calls the client may make and the sandbox serves",
        "doors": "the door backend accessctl opens doors through (ACCESS_DOOR_BACKENDS)",
    },
    "momence": {
        "outbound": "tag changes and check-ins sent to Momence (outbound)",
        "tokens": "Momence's OAuth tokens kept encrypted for every worker",
    },
    "example": {},
}


def _package_modules(cls) -> set[str]:
    """The modules and subpackages of the package holding the connector's module."""
    package = importlib.import_module(cls.__module__.rpartition(".")[0])
    folder = Path(package.__file__).parent
    return ({p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
            | {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()})


@pytest.mark.parametrize("kind, cls", CONNECTORS, ids=[kind for kind, _ in CONNECTORS])
def test_each_vendor_package_has_the_template_layout(kind, cls):
    assert cls.__module__.endswith(".connector"), f"{kind}: the connector lives in connector.py"
    modules = _package_modules(cls)
    assert REQUIRED - modules == set(), f"{kind} lacks {sorted(REQUIRED - modules)}"
    extra = modules - REQUIRED - OPTIONAL - set(HELPERS.get(kind, {}))
    assert extra == set(), f"{kind} has {sorted(extra)}: rename to the layout, or list it in HELPERS with why"
    # `manage.py sandbox KIND` finds the vendor's fake through the connector
    sandbox = import_string(cls.sandbox)
    assert cls.sandbox.startswith(cls.__module__.rpartition(".")[0] + ".sandbox."), f"{kind}: {cls.sandbox}"
    assert issubclass(sandbox, Sandbox) and sandbox.kind == kind, f"{kind}: {cls.sandbox}"


def test_the_helpers_listed_are_there():
    """An exception that no longer exists is deleted here too, so the list stays the truth."""
    for kind, cls in CONNECTORS:
        assert set(HELPERS.get(kind, {})) <= _package_modules(cls), kind


def test_the_example_vendor_is_registered_and_hidden():
    example = connector_classes()["example"]
    assert example.hidden and not any(cls.hidden for kind, cls in CONNECTORS if kind != "example")


@pytest.mark.parametrize("kind, cls", CONNECTORS, ids=[kind for kind, _ in CONNECTORS])
def test_each_sync_names_a_sync_job_and_no_connector_builds_its_own(kind, cls):
    assert cls.syncs, f"{kind} offers no sync"
    for spec in cls.syncs:
        assert isinstance(spec.job, type) and issubclass(spec.job, SyncJob), f"{kind}.{spec.name}: {spec.job!r}"
    assert cls.sync_job is Connector.sync_job, f"{kind} dispatches by sync name itself"


@pytest.mark.parametrize("kind, cls", CONNECTORS, ids=[kind for kind, _ in CONNECTORS])
def test_the_engine_builds_each_job_from_its_spec(kind, cls):
    connector = cls(Integration(kind=kind, name=kind, settings={}))
    for spec in cls.syncs:
        job = connector.sync_job(spec.name, {})
        assert (type(job), job.name, job.connector, job.fresh_start) == (spec.job, spec.name, connector, False)
    with pytest.raises(PermanentError, match="has no sync named 'nonsense'"):
        connector.sync_job("nonsense", {})


def test_an_initial_sync_runs_the_specs_marked_initial_in_their_order():
    perfect_gym = connector_classes()["perfectgym"](Integration(kind="perfectgym", name="PG", settings={}))
    assert perfect_gym.initial_sync_names() == ["members", "contracts", "member_products"]
    assert perfect_gym.sync_job("members", {"initial": True}).fresh_start is True
    glofox = connector_classes()["glofox"](Integration(kind="glofox", name="G", settings={}))
    assert glofox.sync_job("members", {"initial": True}).fresh_start is True
    assert glofox.sync_job("members", {"initial": True, "location": "DUB"}).fresh_start is False
    assert glofox.sync_job("checkins", {"initial": True}).fresh_start is False
