"""Every registered connector declares its syncs the one way: a SyncSpec naming its SyncJob,
which the engine builds; no connector dispatches by sync name."""

import pytest

from integrations.connectors import Connector, connector_classes
from integrations.errors import PermanentError
from integrations.models import Integration
from integrations.sync import SyncJob

CONNECTORS = sorted(connector_classes().items())
pytestmark = pytest.mark.django_db  # some jobs read the club records as they are built


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
