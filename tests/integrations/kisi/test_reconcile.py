"""Access pushed to Kisi is the difference between what Gatehouse computes and what Kisi holds."""

import math
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from accessctl.models import AccessRule, DoorSystemUser, KisiGroup
from clients.models import Client
from clients.services import client_delete
from integrations.kisi.records import iso_utc
from integrations.models import SyncIssue, SyncRun
from integrations.reactions import access_changed_notify
from packages.models import Booking, ClientPackage, Package
from tests.factories import (
    BookingFactory,
    ClassSessionFactory,
    ClientFactory,
    ClientPackageFactory,
    PackageFactory,
)
from tests.integrations.kisi.conftest import run

pytestmark = pytest.mark.django_db


def members_group_id(kisi) -> int:
    return next(g["id"] for g in kisi.groups.values() if g["name"] == "Members")


def members_bulk(count: int, membership) -> list:
    """`count` clients holding an active `membership`, written in bulk."""
    members = Client.objects.bulk_create(ClientFactory.build_batch(count, home_location=None))
    ClientPackage.objects.bulk_create(ClientPackageFactory.build(client=m, package=membership)
                                      for m in members)
    return members


def holder(membership, **client_fields):
    return ClientPackageFactory(package=membership, client=ClientFactory(**client_fields)).client


@pytest.fixture
def booking_rule(imported, uxbridge):
    """Pay-as-you-go holders who booked a class at Uxbridge get Members around the class."""
    payg = PackageFactory(name="PAYG", kind=Package.Kind.PAY_AS_YOU_GO)
    rule = AccessRule.objects.create(group=imported, reason=AccessRule.Reason.BOOKING, location=uxbridge,
                                     minutes_before=60, minutes_after=0, owner="test:config-1")
    rule.packages.set([payg])
    return payg


def booked(payg, uxbridge, *, starts_in: timedelta, client=None):
    holding = ClientPackageFactory(package=payg, **({"client": client} if client else {}))
    session = ClassSessionFactory(location=uxbridge, start=timezone.now().replace(microsecond=0) + starts_in)
    return BookingFactory(client=holding.client, session=session)


def test_package_member_gets_the_group_as_a_new_managed_user(kisi, kisi_integration, package_rule,
                                                             membership):
    member = holder(membership, email="ann@example.com", first_name="Ann", last_name="Lee")
    result = run(kisi_integration, "access")
    user = kisi.user_by_email("ann@example.com")
    assert user["name"] == "Ann Lee" and user["send_emails"] is False and user["confirmed"] is True
    roles = kisi.group_members(members_group_id(kisi))
    assert roles["ann@example.com"]["valid_from"] is None and roles["ann@example.com"]["valid_until"] is None
    assert DoorSystemUser.objects.get(client=member).external_id == str(user["id"])
    assert (result.status, result.created, result.updated, result.failed) == ("succeeded", 1, 0, 0)
    assert "1 created, 0 found by email" in result.report


def test_booking_window_runs_from_an_hour_before_to_the_end(kisi, kisi_integration, booking_rule, uxbridge):
    booking = booked(booking_rule, uxbridge, starts_in=timedelta(hours=3))
    run(kisi_integration, "access")
    role = kisi.group_members(members_group_id(kisi))[booking.client.email]
    assert role["valid_from"] == iso_utc(booking.session.start - timedelta(minutes=60))
    assert role["valid_until"] == iso_utc(booking.session.end)


def test_booking_29_minutes_before_class_gets_access_at_once(kisi, kisi_integration, booking_rule, uxbridge,
                                                             monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(Conf, "SYNC", True)
    run(kisi_integration, "access")
    booking = booked(booking_rule, uxbridge, starts_in=timedelta(minutes=29))
    kisi.calls_clear()
    # A member system's sync says the client changed; Kisi is reconciled for it at once.
    with django_capture_on_commit_callbacks(execute=True):
        access_changed_notify(client_ids={booking.client_id})
    role = kisi.group_members(members_group_id(kisi))[booking.client.email]
    assert role["valid_from"] == iso_utc(booking.session.start - timedelta(minutes=60))
    assert role["valid_from"] < iso_utc(timezone.now())  # usable now, not at class start
    reconcile = SyncRun.objects.filter(integration=kisi_integration).first()
    assert reconcile.trigger == SyncRun.Trigger.ACCESS
    assert reconcile.options == {"clients": [booking.client_id]}
    assert kisi.call_counts()["GET role_assignments"] == 1  # that user's roles, not whole groups


def test_cancelled_booking_removes_the_access(kisi, kisi_integration, booking_rule, uxbridge):
    booking = booked(booking_rule, uxbridge, starts_in=timedelta(hours=2))
    run(kisi_integration, "access")
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    result = run(kisi_integration, "access")
    assert booking.client.email not in kisi.group_members(members_group_id(kisi))
    assert kisi.writes() == {"POST users": 1, "POST role_assignments": 1, "DELETE role_assignments/<id>": 1}
    assert result.updated == 1 and "1 removed" in result.report


def test_membership_lapse_removes_the_role_and_keeps_the_user(kisi, kisi_integration, package_rule,
                                                              membership):
    member = holder(membership)
    run(kisi_integration, "access")
    ClientPackage.objects.filter(client=member).update(status=ClientPackage.Status.EXPIRED)
    run(kisi_integration, "access")
    assert kisi.group_members(members_group_id(kisi)) == {}
    assert kisi.user_by_email(member.email) is not None
    assert DoorSystemUser.objects.filter(client=member).exists()


def test_removing_one_of_two_reasons_keeps_access(kisi, kisi_integration, package_rule, membership,
                                                  booking_rule, uxbridge):
    member = holder(membership)
    booking = booked(booking_rule, uxbridge, starts_in=timedelta(hours=5), client=member)
    run(kisi_integration, "access")
    group = members_group_id(kisi)
    assert kisi.group_members(group)[member.email]["valid_until"] is None  # the membership wins
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    kisi.calls_clear()
    run(kisi_integration, "access")
    assert kisi.writes() == {} and kisi.group_members(group)[member.email]["valid_until"] is None
    # Now the membership lapses while a new booking still gives a window: replaced, not removed.
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.BOOKED)
    ClientPackage.objects.filter(client=member, package=membership).update(
        status=ClientPackage.Status.EXPIRED)
    result = run(kisi_integration, "access")
    assert kisi.group_members(group)[member.email]["valid_until"] == iso_utc(booking.session.end)
    assert result.updated == 1 and "1 replaced" in result.report


def test_no_change_rerun_sends_no_writes_and_lists_100_a_call(kisi, kisi_integration, package_rule,
                                                               membership, booking_rule, uxbridge):
    members_bulk(230, membership)
    for _ in range(20):
        booked(booking_rule, uxbridge, starts_in=timedelta(hours=4))
    first = run(kisi_integration, "access")
    assert first.created == 250 and len(kisi.group_members(members_group_id(kisi))) == 250
    kisi.calls_clear()
    again = run(kisi_integration, "access")
    assert kisi.writes() == {}
    assert kisi.call_counts() == {"GET role_assignments": math.ceil(250 / 100)}
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 250, 0)


def test_6000_members_all_get_access(kisi, kisi_integration, package_rule, membership):
    members_bulk(6000, membership)
    result = run(kisi_integration, "access")
    assert result.status == "succeeded" and result.created == 6000
    assert len(kisi.group_members(members_group_id(kisi))) == 6000  # the seed stops at 5,000
    assert DoorSystemUser.objects.count() == 6000


def test_user_found_by_exact_email_else_created(kisi, kisi_integration, package_rule, membership):
    staff = kisi.user_add("Jo.Smith@Example.com", "Jo (front desk)")
    # Kisi's fuzzy query finds this one for ann.lee@example.org; it is not hers.
    kisi.user_add("ann.lee@example.org.uk", "Someone else")
    jo = holder(membership, email="jo.smith@example.com")
    ann = holder(membership, email="ann.lee@example.org")
    result = run(kisi_integration, "access")
    assert DoorSystemUser.objects.get(client=jo).external_id == str(staff["id"])
    made = kisi.user_by_email("ann.lee@example.org")
    assert DoorSystemUser.objects.get(client=ann).external_id == str(made["id"])
    assert kisi.writes()["POST users"] == 1
    assert "1 created, 1 found by email" in result.report


def test_many_new_users_are_matched_from_one_read_of_the_user_list(kisi, kisi_integration, package_rule,
                                                                   membership):
    existing = {kisi.user_add(f"old{n}@example.com")["id"] for n in range(5)}
    clients = [holder(membership, email=f"OLD{n}@example.com") for n in range(5)]
    clients += [holder(membership, email=f"new{n}@example.com") for n in range(10)]
    run(kisi_integration, "access")
    linked = {int(u) for u in DoorSystemUser.objects.filter(client__in=clients[:5])
              .values_list("external_id", flat=True)}
    assert linked == existing
    assert kisi.call_counts()["GET users"] == 1 and kisi.writes()["POST users"] == 10


def test_every_client_of_a_mapped_location_becomes_a_user_without_access(kisi, kisi_integration, package_rule,
                                                                          uxbridge):
    lapsed = ClientFactory(home_location=uxbridge)
    elsewhere = ClientFactory()
    run(kisi_integration, "access")
    assert kisi.user_by_email(lapsed.email) is not None and kisi.user_by_email(elsewhere.email) is None
    assert kisi.group_members(members_group_id(kisi)) == {}


def test_client_without_email_is_an_issue_and_the_rest_go_on(kisi, kisi_integration, package_rule,
                                                             membership):
    nameless = holder(membership, email="")
    other = holder(membership)
    result = run(kisi_integration, "access")
    issue = SyncIssue.objects.get(integration=kisi_integration, sync_name="access")
    assert issue.record_key == f"client-{nameless.pk}" and "no email" in issue.reason
    assert list(kisi.group_members(members_group_id(kisi))) == [other.email]
    assert (result.status, result.failed) == ("succeeded", 1)


def test_roles_gatehouse_does_not_own_are_never_touched(kisi, kisi_integration, package_rule, membership):
    member = holder(membership)
    run(kisi_integration, "access")
    user_id = int(DoorSystemUser.objects.get(client=member).external_id)
    group = members_group_id(kisi)
    staff_group = next(g["id"] for g in kisi.groups.values() if g["name"] == "Uxbridge staff")
    stranger = kisi.user_add("front.desk@example.com")
    kisi.assignment_add(user_id=stranger["id"], group_id=group)  # a user Gatehouse did not make or map
    kisi.assignment_add(user_id=user_id, group_id=staff_group)  # a group no rule names
    ClientPackage.objects.filter(client=member).update(status=ClientPackage.Status.EXPIRED)
    kisi.calls_clear()
    run(kisi_integration, "access")
    assert list(kisi.group_members(group)) == ["front.desk@example.com"]
    assert member.email in kisi.group_members(staff_group)
    assert kisi.writes() == {"DELETE role_assignments/<id>": 1}


def test_deleted_client_loses_access(kisi, kisi_integration, package_rule, membership):
    member = holder(membership)
    run(kisi_integration, "access")
    client_delete(client=member)
    run(kisi_integration, "access")
    assert kisi.group_members(members_group_id(kisi)) == {}


def test_a_run_for_some_clients_touches_only_them(kisi, kisi_integration, package_rule, membership):
    first, second = holder(membership), holder(membership)
    run(kisi_integration, "access")
    ClientPackage.objects.filter(client__in=[first, second]).update(status=ClientPackage.Status.EXPIRED)
    run(kisi_integration, "access", clients=[first.pk])
    assert list(kisi.group_members(members_group_id(kisi))) == [second.email]


def test_rate_limit_on_a_write_waits_and_sends_again(kisi, kisi_integration, package_rule, membership,
                                                     kisi_sleeps):
    member = holder(membership)
    # The list goes through; the create is told to wait 3 s.
    kisi.inject(status=429, retry_after=3, path=r"^role_assignments$", skip=1)
    result = run(kisi_integration, "access")
    assert result.status == "succeeded" and member.email in kisi.group_members(members_group_id(kisi))
    assert 3.0 in kisi_sleeps


def test_kisi_refusing_one_role_is_an_issue_and_the_rest_go_on(kisi, kisi_integration, package_rule,
                                                               membership):
    members = [holder(membership) for _ in range(3)]
    kisi.inject(status=422, path=r"^role_assignments$", skip=1)
    result = run(kisi_integration, "access")
    assert (result.status, result.created, result.failed) == ("succeeded", 2, 1)
    assert len(kisi.group_members(members_group_id(kisi))) == 2
    issue = SyncIssue.objects.get(integration=kisi_integration, sync_name="access")
    assert "answered 422" in issue.reason and "injected fault" not in issue.reason
    assert issue.record_key.startswith("user-")
    run(kisi_integration, "access")
    assert sorted(kisi.group_members(members_group_id(kisi))) == sorted(m.email for m in members)


def test_removing_a_rule_removes_the_roles_it_gave(kisi, kisi_integration, package_rule, membership):
    member = holder(membership)
    run(kisi_integration, "access")
    package_rule.delete()  # e.g. the configuration that made it was removed
    removed = run(kisi_integration, "access")
    assert kisi.group_members(members_group_id(kisi)) == {} and removed.updated == 1
    kisi.calls_clear()
    run(kisi_integration, "access")
    assert kisi.call_counts() == {}  # the group is forgotten once nothing of ours is left in it
    assert kisi.user_by_email(member.email) is not None


def test_a_group_deleted_in_kisi_is_an_issue_and_the_rest_goes_on(kisi, kisi_integration, package_rule,
                                                                   membership):
    holder(membership)
    gone = kisi.group_add("Old members")
    old = AccessRule.objects.create(group=KisiGroup.objects.create(kisi_id=str(gone["id"]), name="Old members"),
                                    reason=AccessRule.Reason.PACKAGE, owner="test:config-2")
    old.packages.set([membership])
    del kisi.groups[gone["id"]], kisi.by_group[gone["id"]]
    result = run(kisi_integration, "access")
    assert result.status == "succeeded" and result.created == 1 and result.failed == 1
    issue = SyncIssue.objects.get(integration=kisi_integration, sync_name="access")
    assert issue.record_key == f"group-{gone['id']}" and "no group" in issue.reason


def test_a_role_already_removed_in_kisi_counts_as_removed(kisi, kisi_integration, package_rule, membership):
    member = holder(membership)
    run(kisi_integration, "access")
    assignment_id = kisi.group_members(members_group_id(kisi))[member.email]["id"]
    ClientPackage.objects.filter(client=member).update(status=ClientPackage.Status.EXPIRED)
    kisi.inject(status=404, path=rf"^role_assignments/{assignment_id}$")  # removed by someone meanwhile
    result = run(kisi_integration, "access")
    assert (result.status, result.updated, result.failed) == ("succeeded", 1, 0)


def test_a_few_new_users_among_many_are_looked_up_one_by_one(kisi, kisi_integration, package_rule, membership):
    known = Client.objects.bulk_create(ClientFactory.build_batch(1100, home_location=None))
    DoorSystemUser.objects.bulk_create(DoorSystemUser(client=c, system=kisi_integration.source,
                                                      external_id=f"x{c.pk}") for c in known)
    newcomers = [holder(membership) for _ in range(11)]
    run(kisi_integration, "access")
    queries = [c for c in kisi.calls if c.method == "GET" and c.path == "users"]
    assert sorted(c.query["query"] for c in queries) == sorted(m.email for m in newcomers)
