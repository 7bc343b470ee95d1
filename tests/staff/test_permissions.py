"""Every staff page and staff POST checks the permission of its admin counterpart.

The pages are read from staff/urls.py, so a new one the matrix does not list fails here.
Each is asked by every role of tests/staff/roles.py; a refusal is the admin login for
callers without a staff session and a bare 403 "no" for staff, and leaves the vendor,
the task queue and the records untouched. The buttons a role cannot use are not shown.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission

from integrations.models import Delivery, SyncIssue
from staff.urls import urlpatterns
from tests.factories import ClientFactory
from tests.staff.roles import FRONT_DESK, MANAGER, OUTSIDERS, ROLES, is_login_redirect, log_in

pytestmark = pytest.mark.django_db
DESK = {FRONT_DESK, MANAGER}


@dataclass
class Page:
    name: str  # the staff URL name
    path: object  # world -> path
    may: set
    data: dict | None = None  # a POST's form; None: a GET
    done: object = None  # a POST's success: (world, outside) -> bool


def queued(outside) -> bool:
    return outside.effects()["tasks queued"] > 0


PAGES = {
    "dashboard": Page("dashboard", lambda w: "/staff/", DESK),
    "clients": Page("clients", lambda w: "/staff/clients/?q=Ada", DESK),
    "client": Page("client", lambda w: f"/staff/clients/{w.member.pk}/", DESK),
    "client sync now": Page("client-sync", lambda w: f"/staff/clients/{w.member.pk}/sync/", DESK, {},
                            lambda w, o: queued(o)),
    "access log": Page("access-log", lambda w: "/staff/access-log/", DESK),
    "access log rows": Page("access-log", lambda w: "/staff/access-log/?partial=1", DESK),
    "sync issues": Page("issues", lambda w: "/staff/issues/", DESK),
    "resolve": Page("issue-act", lambda w: f"/staff/issues/{w.issue.pk}/", {MANAGER}, {"action": "resolve"},
                    lambda w, o: SyncIssue.objects.get(pk=w.issue.pk).resolved_at is not None),
    "retry a member": Page("issue-act", lambda w: f"/staff/issues/{w.issue.pk}/", DESK, {"action": "retry"},
                           lambda w, o: queued(o)),
    # No record to fetch again: the retry is a whole sync, the admin's "Sync now".
    "retry a whole sync": Page("issue-act", lambda w: f"/staff/issues/{w.whole.pk}/", {MANAGER},
                               {"action": "retry"}, lambda w, o: queued(o)),
    "deliveries": Page("deliveries", lambda w: f"/staff/deliveries/?client={w.member.pk}", DESK),
    "retry a delivery": Page("delivery-retry", lambda w: f"/staff/deliveries/{w.delivery.pk}/retry/", {MANAGER}, {},
                             lambda w, o: Delivery.objects.get(pk=w.delivery.pk).state == "pending" and queued(o)),
}


@pytest.fixture
def world(integration):
    member = ClientFactory(first_name="Ada", source=integration.source, external_id="m1")
    return SimpleNamespace(
        member=member,
        delivery=Delivery.objects.create(integration=integration, kind="checkin", key="checkin:1", sync_name="checkins",
                                         client=member, state="gave_up", attempts=10),
        issue=SyncIssue.objects.create(integration=integration, sync_name="members", record_key="m1",
                                       reason="The member has no first name."),
        whole=SyncIssue.objects.create(integration=integration, sync_name="members", record_key="",
                                       reason="The page could not be read."),
    )


def test_the_matrix_lists_every_staff_page():
    assert {pattern.name for pattern in urlpatterns} == {page.name for page in PAGES.values()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", list(PAGES))
def test_staff_page_for_each_role(client, world, outside, key, role):
    page = PAGES[key]
    headers = log_in(client, role)
    path = page.path(world)
    response = client.get(path, **headers) if page.data is None else client.post(path, page.data, **headers)
    if role in OUTSIDERS:
        assert is_login_redirect(response), response
    elif role not in page.may:
        assert (response.status_code, response.content) == (403, b"no")
    elif page.data is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and not is_login_redirect(response)
        assert page.done(world, outside), f"{role}: {key} did nothing"
    if role not in page.may and page.data is not None:
        assert not page.done(world, outside), f"{role} was refused {key}, yet it happened"
        assert outside.untouched(), outside.effects()


def staff_with(client, django_user_model, *codenames):
    user = django_user_model.objects.create_user("clerk", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)


def test_the_member_sync_button_is_shown_only_to_who_may_press_it(client, world, outside, django_user_model):
    url = f"/staff/clients/{world.member.pk}/"
    staff_with(client, django_user_model, "view_client")
    page = client.get(url).content.decode()
    assert "Ada" in page and "Sync this member now" not in page
    log_in(client, FRONT_DESK)
    assert "Sync this member now" in client.get(url).content.decode()


def test_issue_buttons_follow_the_permissions(client, world, outside):
    log_in(client, FRONT_DESK)
    page = client.get("/staff/issues/").content.decode()
    assert page.count('value="retry"') == 1, "the desk retries the member, not the whole sync"
    assert 'value="resolve"' not in page
    log_in(client, MANAGER)
    page = client.get("/staff/issues/").content.decode()
    assert page.count('value="retry"') == 2 and page.count('value="resolve"') == 2


def test_the_menu_shows_the_pages_the_user_may_open(client, world, django_user_model):
    staff_with(client, django_user_model, "view_client")
    page = client.get("/staff/clients/").content.decode()
    assert ">Clients</a>" in page
    assert ">Access log</a>" not in page and ">Sync issues</a>" not in page and ">Integrations</a>" not in page
