"""Every sandbox's own routes (`_sandbox/...`, one mechanism in the base class): the calls it
was asked, counted the vendor's way, cleared on request, and never counted themselves. A
benchmark serving a sandbox from another process reads them over HTTP."""

import requests

from integrations.gladstone.client import GladstoneClient
from integrations.gladstone.sandbox import APP_NAME, PASSWORD, USERNAME, GladstoneSandbox
from integrations.glofox.sandbox import GlofoxSandbox
from integrations.kisi.client import KisiClient
from integrations.kisi.sandbox import API_KEY, KisiSandbox
from integrations.sandbox.transports import served


def calls(url: str) -> dict:
    return requests.get(f"{url}_sandbox/calls", timeout=10).json()


def test_a_soap_sandbox_counts_its_calls_by_operation_and_clears_them():
    with served(GladstoneSandbox(members=3)) as url:
        client = GladstoneClient(base_url=url, app_name=APP_NAME, username=USERNAME, password=PASSWORD)
        client.member(member_id=1)
        client.member(member_id=2)
        client.member_subscriptions(member_id=1)
        assert calls(url) == {"calls": {"RetrieveMember": 2, "GetMemberSubscriptionsWithDetails": 1}}
        assert calls(url)["calls"] == {"RetrieveMember": 2, "GetMemberSubscriptionsWithDetails": 1}  # not counted
        assert requests.post(f"{url}_sandbox/calls/clear", timeout=10).status_code == 204
        assert calls(url) == {"calls": {}}


def test_a_rest_sandbox_counts_by_method_and_path_and_keeps_its_own_routes():
    with served(KisiSandbox(members=0)) as url:
        kisi = KisiClient(api_key=API_KEY, base_url=url)
        user = kisi.user_create(email="ann@example.com", name="Ann")
        kisi.user_assignments(user.id)
        assert calls(url) == {"calls": {"POST users": 1, "GET role_assignments": 1}, "writes": {"POST users": 1}}
        assert requests.get(f"{url}_sandbox/state", timeout=10).json()["users"] == 1  # Kisi's own route
        assert requests.get(f"{url}_sandbox/nothing", timeout=10).status_code == 404
    with served(GlofoxSandbox(members=2)) as url:
        assert requests.get(f"{url}_sandbox/state", timeout=10).json()["calls"] == {}
        assert calls(url) == {"calls": {}}
