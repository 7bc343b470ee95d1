"""A large initial sync's calls made in two processes (integrations.fetching.Forks), over real
HTTP: every member and subscription is written, as in one process."""

from datetime import datetime, timedelta

import pytest

from clients.models import Client
from integrations.gladstone.sandbox import PASSWORD, GladstoneSandbox
from integrations.sandbox.transports import served
from integrations.services import integration_save
from packages.models import ClientPackage
from tests.integrations.gladstone.conftest import SETTINGS, TOKEN_KEY, add_member, sync

pytestmark = pytest.mark.django_db


def test_a_gladstone_initial_sync_in_two_processes_writes_every_member_and_subscription(club, forked):
    sandbox = GladstoneSandbox(members=0)
    start = datetime.now().replace(microsecond=0) - timedelta(days=1)
    members = [add_member(sandbox, forename=f"M{n}", email=f"m{n}@example.com") for n in range(30)]
    refs = {member: sandbox.subscription_put(member, sub_type_id="PTPK", site_id="UB", start_date=start,
                                             end_date=start + timedelta(days=30)) for member in members[::3]}
    with served(sandbox) as url:
        integration = integration_save(kind="gladstone", name="Gladstone", settings={**SETTINGS,
                                       "base_url": url}, secrets={"password": PASSWORD, "member_token_key": TOKEN_KEY})
        run = sync(integration)
    assert forked  # 30 members, two calls each: past the 20 that fork
    assert sorted(Client.objects.values_list("external_id", flat=True)) == sorted(str(m) for m in members)
    assert dict(ClientPackage.objects.values_list("client__external_id", "alt_id")) == {
        str(member): ref for member, ref in refs.items()}
    assert (run.created, run.failed) == (30, 0)
