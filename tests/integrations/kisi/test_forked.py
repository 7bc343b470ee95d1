"""A large push's calls made in two processes (integrations.fetching.Forks), over real HTTP:
every member gets access, and clients sharing an email still get one Kisi user (the
other is an issue, as in one process)."""

import pytest

from accessctl.models import AccessRule, DoorSystemUser, KisiGroup
from integrations.kisi.sandbox import API_KEY, KisiSandbox
from integrations.models import SyncIssue
from integrations.sandbox.transports import served
from integrations.services import integration_save
from tests.factories import ClientFactory, ClientPackageFactory, LocationFactory, PackageFactory
from tests.integrations.kisi.conftest import run

pytestmark = pytest.mark.django_db


def test_a_kisi_push_in_two_processes_gives_each_email_one_user(forked):
    sandbox = KisiSandbox(members=0)
    with served(sandbox) as url:
        kisi = integration_save(kind="kisi", name="Kisi", settings={"base_url": url, "reconcile_minutes": 1},
                                secrets={"api_key": API_KEY})
        LocationFactory(name="Uxbridge")
        run(kisi, "doors")
        membership = PackageFactory(name="Monthly")
        rule = AccessRule.objects.create(group=KisiGroup.objects.get(name="Members"),
                                         reason=AccessRule.Reason.PACKAGE, owner="test")
        rule.packages.set([membership])
        members = [ClientPackageFactory(package=membership, client=ClientFactory(email=f"p{n}@example.com")).client
                   for n in range(40)]
        twins = [ClientPackageFactory(package=membership, client=ClientFactory(email=email)).client
                 for email in ("twin@example.com", "TWIN@example.com")]
        result = run(kisi, "access")
    assert forked
    assert [u["email"].lower() for u in sandbox.users.values()].count("twin@example.com") == 1
    assert set(DoorSystemUser.objects.values_list("client__email", flat=True)) >= {m.email for m in members}
    assert DoorSystemUser.objects.filter(client__in=twins).count() == 1
    linked = DoorSystemUser.objects.get(client__in=twins).client
    other = next(c for c in twins if c != linked)
    assert SyncIssue.objects.filter(sync_name="access", record_key=f"client-{other.pk}").exists()
    assert sorted(sandbox.group_members(next(g["id"] for g in sandbox.groups.values() if g["name"] == "Members"))) \
        == sorted([m.email for m in members] + [linked.email])
    assert result.status == "succeeded"
