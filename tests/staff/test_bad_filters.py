"""Filters staff type or tamper with: a value that cannot be read is named on the page with
a 400, never a server error, on the staff pages and on the admin's change lists.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessctl.models import DoorAccess
from integrations.models import Integration, SyncIssue
from tests.factories import ClientFactory, DoorFactory

pytestmark = pytest.mark.django_db
UNREADABLE = "That filter could not be read"
# Every GET parameter each staff page reads (staff/views.py, staff/access_log.py).
STAFF_PARAMETERS = {
    "/staff/": [],
    "/staff/clients/": ["q", "page"],
    "/staff/access-log/": ["door", "location", "outcome", "member", "after", "before", "partial"],
    "/staff/issues/": ["integration"],
}
NASTY = ["a\x00b", "\x00", "abc", "-1", "0", "99999999999999999999999", "1e309", "2026-13-45T00:00:00Z",
         "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-03-01T09:30:00", "%", "%00", "' OR 1=1 --",
         "\u202e\ufeff", "😀" * 300, " ", "x" * 5000]


@pytest.fixture
def club(db):
    """An integration with an open issue, a client and a door access, so every filter has rows."""
    integration = Integration.objects.create(kind="example", name="Example club")
    SyncIssue.objects.create(integration=integration, sync_name="members", record_key="m1", reason="No name.")
    client = ClientFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    door = DoorFactory(title="Main entrance")
    DoorAccess.objects.create(client=client, door=door, accessed_at=timezone.now() - timedelta(minutes=5),
                              source="kisi-1", source_ref="evt-1")
    return integration, client, door


@pytest.mark.parametrize(("url", "says"), [
    ("/staff/issues/?integration=abc", "integration: 'abc' is not a whole number"),
    ("/staff/access-log/?after=2026-13-45T00:00:00Z", "after: '2026-13-45T00:00:00Z' is not a date and time"),
    ("/staff/clients/?q=Ada%00", "q: it contains a NUL character"),
    ("/staff/access-log/?member=Ada%00", "member: it contains a NUL character"),
    ("/staff/access-log/?door=99999999999999999999999", "door: '99999999999999999999999' is not a whole number"),
    ("/staff/issues/?integration=99999999999999999999999", "integration: '99999999999999999999999' is not a whole"),
    ("/staff/clients/?page=-1", "page: '-1' is not a whole number from 1"),
])
def test_an_unreadable_filter_is_named_on_the_page_with_a_400_and_left_out(admin_client, club, url, says):
    response = admin_client.get(url)
    page = response.content.decode()
    assert response.status_code == 400
    assert f"{UNREADABLE}: {says}" in page.replace("&#x27;", "'")
    assert "Ada Lovelace" in page or "No name." in page  # the page is there, without that filter


def test_readable_filters_still_filter_and_answer_200(admin_client, club):
    integration, client, door = club
    other = Integration.objects.create(kind="example", name="Other club")
    assert "No name." in admin_client.get(f"/staff/issues/?integration={integration.pk}").content.decode()
    elsewhere = admin_client.get(f"/staff/issues/?integration={other.pk}")
    assert elsewhere.status_code == 200 and "No name." not in elsewhere.content.decode()
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    log = admin_client.get("/staff/access-log/", {"door": door.pk, "member": "Ada", "after": since})
    assert log.status_code == 200 and "Ada Lovelace" in log.content.decode()
    assert UNREADABLE not in log.content.decode()
    later = admin_client.get("/staff/access-log/", {"after": timezone.now().isoformat(), "partial": "1"})
    assert later.status_code == 200 and "Ada Lovelace" not in later.content.decode()


@pytest.mark.parametrize("url", sorted(STAFF_PARAMETERS))
def test_no_filter_value_makes_a_staff_page_fail(admin_client, club, url):
    """Bounded and deterministic: every parameter of the page (and one it does not read) with
    nasty values, hypothesis' text and numbers, alone or together."""
    names = [*STAFF_PARAMETERS[url], "unknown"]
    values = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str),
                       st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()))

    @settings(max_examples=60, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(query=st.dictionaries(st.sampled_from(names), values, min_size=1, max_size=len(names)))
    def call(query):
        response = admin_client.get(url, query)
        assert response.status_code in (200, 400), (url, query)
        if response.status_code == 400 and query.get("partial") in (None, ""):
            assert UNREADABLE in response.content.decode(), (url, query)

    call()


def changelist_parameters(model_admin, user) -> list[str]:
    """The query parameters a change list reads: search, its list filters' and its date hierarchy's."""
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names = ["q", "p", "o"] + [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return names


def test_no_admin_change_list_fails_on_a_nul_or_an_out_of_range_number(admin_client, admin_user):
    """NUL characters reach PostgreSQL (which refuses them) and huge numbers reach SQLite and
    datetime (OverflowError) through the admin's list filters; each answers 4xx instead."""
    failures = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in changelist_parameters(model_admin, admin_user):
            for value in ("a\x00b", "99999999999999999999999"):
                status = admin_client.get(url, {name: value}).status_code
                if status >= 500:
                    failures.append((url, name, value, status))
    assert failures == []
    nul = admin_client.get(reverse("admin:clients_client_changelist"), {"source": "a\x00b"})
    assert nul.status_code == 400 and f"{UNREADABLE}: it contains a NUL character" in nul.content.decode()
    year = admin_client.get(reverse("admin:accessctl_dooraccess_changelist"),
                            {"accessed_at__year": "99999999999999999999999"})
    assert year.status_code == 400 and f"{UNREADABLE}: a number or date in it is out of range" in year.content.decode()
