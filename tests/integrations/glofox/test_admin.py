"""Glofox in the admin: settings, one per organisation, configurations, check-ins."""

import pytest
from django.utils import timezone

from accessctl.models import AccessRule, Door, KisiGroup, KisiPlace
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.sandbox import API_KEY, API_TOKEN, BRANCH_ID, CLASSES, PACK, PAYG, UNLIMITED
from integrations.glofox.services import AMBIGUOUS_GROUP
from integrations.models import Delivery, Integration
from integrations.sync import sync_run
from packages.models import Package
from tests.integrations.glofox.conftest import GLOFOX_URL

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"
PREFIX = "glofox_configurations"


def settings_data(**extra):
    return {"name": "Glofox", "is_active": "on", "base_url": GLOFOX_URL, "api_key": API_KEY,
            "api_token": API_TOKEN, "webhook_secret": "", "member_minutes": "1", "booking_minutes": "1", **extra}


def inline_data(forms: list[dict], initial: int = 0) -> dict:
    data = {f"{PREFIX}-TOTAL_FORMS": str(len(forms)), f"{PREFIX}-INITIAL_FORMS": str(initial),
            f"{PREFIX}-MIN_NUM_FORMS": "0", f"{PREFIX}-MAX_NUM_FORMS": "1000"}
    for n, form in enumerate(forms):
        for key, value in form.items():
            data[f"{PREFIX}-{n}-{key}"] = value
    return data


def change(admin_client, integration, forms, initial=0):
    return admin_client.post(f"{CHANGELIST}{integration.pk}/change/", {
        **settings_data(api_key="", api_token=""), **inline_data(forms, initial)})


def test_the_add_form_has_the_glofox_fields_with_secrets_hidden(admin_client):
    page = admin_client.get(CHANGELIST + "add/?kind=glofox").content.decode()
    for field in ("base_url", "api_key", "api_token", "webhook_secret", "member_minutes", "booking_minutes"):
        assert f'name="{field}"' in page
    assert page.count('type="password"') == 3
    assert "Save the integration with its API key and token first" in page


def test_adding_through_the_admin_schedules_one_minute_syncs(admin_client, glofox):
    response = admin_client.post(CHANGELIST + "add/?kind=glofox", {**settings_data(), **inline_data([])})
    assert response.status_code == 302, response.content.decode()[:3000]
    integration = Integration.objects.get(kind="glofox")
    assert integration.secrets()["api_token"] == API_TOKEN and "api_token" not in integration.settings
    from django_q.models import Schedule

    minutes = dict(Schedule.objects.filter(name__startswith="integration:").values_list("name", "minutes"))
    assert minutes == {f"integration:{integration.pk}:{name}": 1 for name in ("members", "bookings", "checkins")}


def test_a_second_glofox_integration_is_refused_with_a_clear_message(admin_client, integration):
    response = admin_client.post(CHANGELIST + "add/?kind=glofox", {
        **settings_data(name="Glofox two"), **inline_data([])})
    assert response.status_code == 200
    assert "Only one Glofox integration is allowed per organisation" in response.content.decode()
    assert Integration.objects.filter(kind="glofox").count() == 1


def test_membership_types_are_picked_from_glofoxs_catalogue(admin_client, glofox, integration, group, place):
    GlofoxConfiguration.objects.create(integration=integration, branch_id=BRANCH_ID, kisi_group=group,
                                       kisi_place=place)
    page = admin_client.get(f"{CHANGELIST}{integration.pk}/change/").content.decode()
    for name in ("Unlimited monthly (time-based)", "8 classes a month (time-based with classes)",
                 "10-class pack (credit pack)", "Drop-in (pay as you go)"):
        assert name in page
    assert f'value="{UNLIMITED}"' in page and 'type="checkbox"' in page
    assert any(c.path == "2.0/memberships" and c.header("x-glofox-branch-id") == BRANCH_ID for c in glofox.calls)


def test_the_page_says_when_glofox_cannot_be_reached(admin_client, glofox, integration, group, place):
    GlofoxConfiguration.objects.create(integration=integration, branch_id=BRANCH_ID, kisi_group=group,
                                       kisi_place=place)
    glofox.inject(status=503, path="memberships", times=10)
    response = admin_client.get(f"{CHANGELIST}{integration.pk}/change/")
    assert response.status_code == 200
    assert "Glofox could not be reached to list the membership types" in response.content.decode()


def test_saving_a_configuration_makes_packages_and_access_rules(admin_client, glofox, integration, group, place):
    response = change(admin_client, integration, [{
        "branch_id": BRANCH_ID, "kisi_group": group.pk, "kisi_place": place.pk,
        "membership_types": [UNLIMITED, CLASSES], "bookings_enabled": "on"}])
    assert response.status_code == 302, response.content.decode()[-3000:]
    configuration = GlofoxConfiguration.objects.get()
    assert configuration.membership_types == [UNLIMITED, CLASSES]
    assert configuration.time_zone == "Europe/London"  # read from the branch
    kinds = dict(Package.objects.values_list("alt_id", "kind"))
    assert kinds == {f"glofox_{UNLIMITED}": "membership", f"glofox_{CLASSES}": "membership",
                     f"glofox_{PACK}": "credit_pack", f"glofox_{PAYG}": "payg"}
    rules = {r.reason: r for r in AccessRule.objects.filter(owner=f"glofox-{integration.pk}:config-{configuration.pk}")}
    assert {p.alt_id for p in rules["package"].packages.all()} == {f"glofox_{UNLIMITED}", f"glofox_{CLASSES}"}
    booking = rules["booking"]
    assert {p.alt_id for p in booking.packages.all()} == {f"glofox_{PACK}", f"glofox_{PAYG}"}
    assert (booking.location, booking.minutes_before, booking.group) == (place.location, 60, group)


def test_turning_bookings_off_removes_the_booking_rule(admin_client, glofox, integration, group, place):
    change(admin_client, integration, [{"branch_id": BRANCH_ID, "kisi_group": group.pk, "kisi_place": place.pk,
                                        "membership_types": [UNLIMITED], "bookings_enabled": "on"}])
    configuration = GlofoxConfiguration.objects.get()
    response = change(admin_client, integration, [{
        "id": configuration.pk, "integration": integration.pk, "branch_id": BRANCH_ID, "kisi_group": group.pk,
        "kisi_place": place.pk, "membership_types": [UNLIMITED]}], initial=1)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(AccessRule.objects.values_list("reason", flat=True)) == ["package"]


def test_a_place_scoped_group_is_refused_with_the_seeds_message(admin_client, glofox, integration, place):
    scoped = KisiGroup.objects.create(kisi_id="502", name="Central only", place=place)
    response = change(admin_client, integration, [{
        "branch_id": BRANCH_ID, "kisi_group": scoped.pk, "kisi_place": place.pk, "membership_types": [UNLIMITED]}])
    assert response.status_code == 200
    assert AMBIGUOUS_GROUP == ("The organization is ambiguous, please check if relevant references belong "
                               "to the same organization")
    assert AMBIGUOUS_GROUP in response.content.decode()
    assert not GlofoxConfiguration.objects.exists() and not AccessRule.objects.exists()


def test_a_location_id_glofox_does_not_answer_for_is_refused(admin_client, glofox, integration, group, place):
    response = change(admin_client, integration, [{
        "branch_id": "5a9e1c2b3d4e5f6071829399", "kisi_group": group.pk, "kisi_place": place.pk}])
    assert response.status_code == 200
    page = response.content.decode()
    assert "could not be reached" in page and "BRANCH_NOT_WHITELISTED" in page
    assert "This location is not whitelisted" not in page  # Glofox's words stay out
    assert not GlofoxConfiguration.objects.exists()


def test_a_place_without_a_club_location_is_refused(admin_client, glofox, integration, group):
    unmapped = KisiPlace.objects.create(kisi_id="79", name="Warehouse")
    response = change(admin_client, integration, [{
        "branch_id": BRANCH_ID, "kisi_group": group.pk, "kisi_place": unmapped.pk}])
    assert response.status_code == 200
    assert "is not mapped to a club location yet" in response.content.decode()
    assert not GlofoxConfiguration.objects.exists()


def test_deleting_a_configuration_deletes_its_rules_only(admin_client, glofox, integration, group, place):
    from tests.integrations.glofox.conftest import configure

    kept = AccessRule.objects.create(group=group, reason="package", owner="momence-4:config-1")
    configure(integration, group, place)
    configuration = GlofoxConfiguration.objects.get()
    response = change(admin_client, integration, [{
        "id": configuration.pk, "integration": integration.pk, "branch_id": BRANCH_ID, "kisi_group": group.pk,
        "kisi_place": place.pk, "membership_types": [UNLIMITED], "bookings_enabled": "on", "DELETE": "on"}],
        initial=1)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert not GlofoxConfiguration.objects.exists()
    assert list(AccessRule.objects.all()) == [kept]


def test_deleting_the_integration_deletes_its_rules(admin_client, glofox, configuration):
    integration = configuration.integration
    assert AccessRule.objects.count() == 2
    response = admin_client.post(f"{CHANGELIST}{integration.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessRule.objects.exists()


def test_check_ins_are_visible_with_each_attempt(admin_client, glofox, configuration, place):
    member = glofox.member_add()
    sync_run(integration=configuration.integration, sync_name="members")
    door = Door.objects.create(title="Main entrance", door_id="kisi-1", location=place.location,
                               access_control="kisi", kisi_lock_id="1")
    client = Client.objects.get(external_id=member["_id"])
    door_accesses_record(source="kisi-5", entries=[DoorEntry(client.pk, door, timezone.now(), True, "evt-1")])
    glofox.inject(status=500, path="2.0/access")
    sync_run(integration=configuration.integration, sync_name="checkins")
    delivery = Delivery.objects.get()
    listing = admin_client.get("/admin/integrations/delivery/").content.decode()
    assert str(client) in listing and "Failed (retrying)" in listing
    response = admin_client.post("/admin/integrations/delivery/", {
        "action": "retry_now", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    sync_run(integration=configuration.integration, sync_name="checkins")
    detail = admin_client.get(f"/admin/integrations/delivery/{delivery.pk}/change/").content.decode()
    assert "POST 2.0/access" in detail and ">500<" in detail and ">200<" in detail
    assert API_KEY not in detail and API_TOKEN not in detail
