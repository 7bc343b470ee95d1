"""The access rules a configuration implies heal on every members sync, with its booking window."""

from datetime import UTC, datetime, timedelta

import pytest

from accessctl.models import AccessRule, Door
from accessctl.selectors import Window, access_expected
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.sandbox import BRANCH_ID, PACK, PAYG, UNLIMITED
from integrations.models import Delivery
from integrations.sync import sync_run
from tests.integrations.glofox.conftest import configure
from tests.integrations.glofox.test_admin import CHANGELIST, change

pytestmark = pytest.mark.django_db
RULES = "/admin/accessctl/accessrule/"


def soon(minutes: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def sync(integration, *names):
    return [sync_run(integration=integration, sync_name=name) for name in names]


def booking_rule(configuration) -> AccessRule | None:
    return AccessRule.objects.filter(owner=configuration.owner, reason=AccessRule.Reason.BOOKING).first()


def edit(admin_client, configuration, **fields):
    """Post the configuration's form on the integration page as a manager would."""
    form = {"id": configuration.pk, "integration": configuration.integration_id, "branch_id": BRANCH_ID,
            "kisi_group": configuration.kisi_group_id, "kisi_place": configuration.kisi_place_id,
            "membership_types": [UNLIMITED], "bookings_enabled": "on", **fields}
    response = change(admin_client, configuration.integration, [form], initial=1)
    assert response.status_code == 302, response.content.decode()[-3000:]
    return GlofoxConfiguration.objects.get(pk=configuration.pk)


def test_bookings_enabled_during_a_catalogue_outage_get_their_rule_on_the_next_members_sync(
        admin_client, glofox, integration, group, place):
    configuration = configure(integration, group, place, bookings=False)
    glofox.inject(status=503, path=r"2\.0/memberships", times=20)  # Glofox is down as the manager saves
    configuration = edit(admin_client, configuration)
    assert configuration.bookings_enabled and booking_rule(configuration) is None
    glofox.faults_clear()  # Glofox is back
    pack, payg = glofox.member_add(membership=PACK), glofox.member_add(membership=PAYG)
    start = soon(120)
    for member in (pack, payg):
        glofox.booking_add(member["_id"], start=start)
    sync(integration, "members", "bookings")
    rule = booking_rule(configuration)
    assert {p.alt_id for p in rule.packages.all()} == {f"glofox_{PACK}", f"glofox_{PAYG}"}
    window = {group.pk: Window(start - timedelta(minutes=60), start + timedelta(minutes=60))}
    expected = access_expected()
    assert [expected.get(Client.objects.get(external_id=m["_id"]).pk) for m in (pack, payg)] == [window, window]


def test_a_members_sync_with_the_catalogue_still_unreadable_makes_the_rule_from_the_members_seen(
        admin_client, glofox, integration, group, place):
    configuration = configure(integration, group, place, bookings=False)
    glofox.inject(status=503, path=r"2\.0/memberships", times=100)  # the catalogue stays unreadable
    configuration = edit(admin_client, configuration)
    member = glofox.member_add(membership=PACK)
    start = soon(90)
    glofox.booking_add(member["_id"], start=start)
    sync(integration, "members", "bookings")
    assert {p.alt_id for p in booking_rule(configuration).packages.all()} == {f"glofox_{PACK}"}
    assert access_expected()[Client.objects.get(external_id=member["_id"]).pk] == {
        group.pk: Window(start - timedelta(minutes=60), start + timedelta(minutes=60))}


def test_the_booking_window_is_a_setting_that_reaches_the_rule_and_stays(admin_client, glofox, configuration):
    page = admin_client.get(f"{CHANGELIST}{configuration.integration_id}/change/").content.decode()
    assert 'name="glofox_configurations-0-booking_minutes_before"' in page
    assert 'name="glofox_configurations-0-booking_minutes_after"' in page
    assert (booking_rule(configuration).minutes_before, booking_rule(configuration).minutes_after) == (60, 0)
    configuration = edit(admin_client, configuration, booking_minutes_before="15", booking_minutes_after="10")
    assert (configuration.booking_minutes_before, configuration.booking_minutes_after) == (15, 10)
    assert (booking_rule(configuration).minutes_before, booking_rule(configuration).minutes_after) == (15, 10)
    member = glofox.member_add(membership=PAYG)
    start = soon(120)
    glofox.booking_add(member["_id"], start=start, minutes=45)
    sync(configuration.integration, "members", "bookings", "members")
    edit(admin_client, configuration, booking_minutes_before="15", booking_minutes_after="10")  # saved again
    assert (booking_rule(configuration).minutes_before, booking_rule(configuration).minutes_after) == (15, 10)
    assert access_expected()[Client.objects.get(external_id=member["_id"]).pk] == {
        configuration.kisi_group_id: Window(start - timedelta(minutes=15), start + timedelta(minutes=55))}


def test_an_empty_window_means_the_default_and_a_window_over_a_day_is_refused(admin_client, glofox, configuration):
    configuration = edit(admin_client, configuration, booking_minutes_before="", booking_minutes_after="")
    assert (booking_rule(configuration).minutes_before, booking_rule(configuration).minutes_after) == (60, 0)
    response = change(admin_client, configuration.integration, [{
        "id": configuration.pk, "integration": configuration.integration_id, "branch_id": BRANCH_ID,
        "kisi_group": configuration.kisi_group_id, "kisi_place": configuration.kisi_place_id,
        "membership_types": [UNLIMITED], "bookings_enabled": "on", "booking_minutes_before": "2000"}], initial=1)
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 1440" in response.content.decode()
    assert booking_rule(configuration).minutes_before == 60


def test_a_rule_changed_behind_the_configurations_back_is_set_again_by_the_next_sync(glofox, configuration):
    rule = booking_rule(configuration)
    rule.minutes_before, rule.minutes_after, rule.is_active = 5, 30, False
    rule.save()
    AccessRule.objects.filter(owner=configuration.owner, reason=AccessRule.Reason.PACKAGE).delete()
    sync(configuration.integration, "members")
    rule = booking_rule(configuration)
    assert (rule.minutes_before, rule.minutes_after, rule.is_active) == (60, 0, True)
    package_rule = AccessRule.objects.get(owner=configuration.owner, reason=AccessRule.Reason.PACKAGE)
    assert [p.alt_id for p in package_rule.packages.all()] == [f"glofox_{UNLIMITED}"]


def test_the_rule_admin_shows_glofox_rules_as_owned_by_their_configuration_and_read_only(
        admin_client, glofox, configuration):
    rule = booking_rule(configuration)
    page = admin_client.get(f"{RULES}{rule.pk}/change/").content.decode()
    assert f"the configuration Glofox location {BRANCH_ID} of the integration Glofox" in page
    assert f'href="{CHANGELIST}{configuration.integration_id}/change/"' in page
    assert 'name="minutes_before"' not in page and 'name="minutes_after"' not in page
    admin_client.post(f"{RULES}{rule.pk}/change/", {"group": rule.group_id, "reason": "booking",
                                                    "minutes_before": "5", "minutes_after": "30", "owner": "me",
                                                    "is_active": "on"})
    rule.refresh_from_db()
    assert (rule.minutes_before, rule.minutes_after, rule.owner) == (60, 0, configuration.owner)
    listing = admin_client.get(RULES).content.decode()
    assert f"Glofox location {BRANCH_ID}" in listing


def test_a_rule_made_by_hand_stays_editable(admin_client, glofox, configuration):
    mine = AccessRule.objects.create(group=configuration.kisi_group, reason="booking", owner="front desk")
    page = admin_client.get(f"{RULES}{mine.pk}/change/").content.decode()
    assert 'name="minutes_before"' in page and "recomputed from it" not in page


def test_check_ins_mark_attendance_within_the_configurations_window(admin_client, glofox, configuration, place):
    configuration = edit(admin_client, configuration, booking_minutes_before="90")
    door = Door.objects.create(title="Main entrance", door_id="kisi-9001", location=place.location,
                               access_control=Door.AccessControl.KISI, kisi_lock_id="9001")
    member = glofox.member_add(membership=PAYG)
    booking = glofox.booking_add(member["_id"], start=soon(80))  # 80 minutes ahead: inside 90, not 60
    sync(configuration.integration, "members", "bookings")
    door_accesses_record(source="kisi-99", entries=[DoorEntry(
        client_id=Client.objects.get(external_id=member["_id"]).pk, door=door, accessed_at=datetime.now(UTC),
        granted=True, source_ref="u-1")])
    sync(configuration.integration, "checkins")
    assert Delivery.objects.get().payload["event_id"] == booking["event_id"]
    assert [a["model_ids"] for a in glofox.attendances] == [[booking["event_id"]]]
