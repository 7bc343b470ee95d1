"""Perfect Gym in the admin: its settings form, the club number on Locations, the catalogue,
and "Perform initial sync"."""

import re

import pytest
from django_q.conf import Conf
from django_q.models import Schedule

from clients.models import Client, IdentityType, Location
from integrations.models import Integration, SyncRun
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET
from integrations.services import integration_save
from packages.models import Package
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import PG_URL, pg_settings

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"
VENDOR_FIELDS = {"base_url", "client_id", "client_secret", "identity_type", "create_identity_type",
                 "sync_members", "member_minutes", "sync_swipes", "swipe_minutes", "attendance_minutes"}


def form_fields(page: str) -> set[str]:
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page))
    return names - {"csrfmiddlewaretoken", "_save", "_continue", "_addanother"}


def form_data(**changes):
    return {"name": "Perfect Gym", "is_active": "on", "base_url": PG_URL, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "identity_type": "", "sync_members": "on", "member_minutes": "10",
            "sync_swipes": "on", "swipe_minutes": "5", "attendance_minutes": "30", "login_order": "10",
            **changes}


@pytest.fixture
def tasks_inline(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


def test_the_settings_form_has_exactly_the_seeds_fields(admin_client):
    page = admin_client.get(CHANGELIST + "add/?kind=perfectgym").content.decode()
    # "login_order" is the framework's, on every connector that checks member credentials;
    # the alert fields are the framework's on every connector (integrations.alerts).
    alerts = {"notification_emails", "alert_after_failures", "alert_lag_minutes"}
    # "poll_seconds" is the framework's on every connector that answers the poller (integrations.polling).
    assert form_fields(page) == {"name", "is_active", "login_order", "poll_seconds"} | alerts | VENDOR_FIELDS
    assert 'name="poll_seconds" value="5"' in page and "Look for changes every (seconds)" in page
    assert re.search(r'<input type="password" name="client_secret"', page)
    for label in ("Base URL", "Client ID", "Client Secret", "Sync member data", "Sync swipes",
                  "Identity for the customer number"):
        assert label in page
    assert 'name="member_minutes" value="1"' in page  # every minute; webhooks wake it sooner


def test_adding_it_can_create_the_customer_number_identity(admin_client):
    response = admin_client.post(CHANGELIST + "add/?kind=perfectgym", form_data(create_identity_type="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    identity = IdentityType.objects.get(display_name="Perfect Gym Customer Number")
    rules = (identity.type, identity.max_per_client, identity.min_days_between_changes, identity.is_active)
    assert rules == ("third_party_id", 1, 0, True)
    integration = Integration.objects.get(kind="perfectgym")
    assert integration.settings["identity_type"] == identity.pk
    assert integration.settings["create_identity_type"] is False
    # The webhook address's token is made with it (Perfect Gym cannot sign its webhooks).
    secrets = integration.secrets()
    assert secrets["client_secret"] == CLIENT_SECRET and len(secrets.pop("webhook_token")) >= 40
    assert secrets == {"client_secret": CLIENT_SECRET}
    assert CLIENT_SECRET not in str(integration.settings)
    schedules = dict(Schedule.objects.filter(name__startswith="integration:").values_list("name", "minutes"))
    assert schedules == {f"integration:{integration.pk}:{name}": minutes for name, minutes in (
        ("members", 10), ("contracts", 10), ("member_products", 10), ("visits", 5))}


def test_adding_it_without_an_identity_asks_for_one(admin_client):
    response = admin_client.post(CHANGELIST + "add/?kind=perfectgym", form_data())
    assert response.status_code == 200
    assert "Choose the identity for the customer number" in response.content.decode()
    assert not Integration.objects.exists() and not IdentityType.objects.exists()


def test_a_stored_secret_is_never_shown_back_and_a_blank_keeps_it(admin_client, integration, customer_number):
    page = admin_client.get(f"{CHANGELIST}{integration.pk}/change/").content.decode()
    assert CLIENT_SECRET not in page and "Leave empty to keep the stored value" in page
    assert f'<option value="{customer_number.pk}" selected>' in page
    response = admin_client.post(f"{CHANGELIST}{integration.pk}/change/", form_data(
        client_secret="", identity_type=str(customer_number.pk), sync_swipes="", member_minutes="15"))
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.secrets()["client_secret"] == CLIENT_SECRET
    assert integration.settings["sync_swipes"] is False
    names = dict(Schedule.objects.filter(name__startswith="integration:").values_list("name", "minutes"))
    assert f"integration:{integration.pk}:visits" not in names
    assert names[f"integration:{integration.pk}:members"] == 15


def test_the_club_number_shows_on_locations_only_while_perfect_gym_is_active(admin_client, customer_number):
    location = Location.objects.create(name="Uxbridge", alt_id="UB")
    url = f"/admin/clients/location/{location.pk}/change/"
    assert "integration_perfectgym_club" not in admin_client.get(url).content.decode()
    integration = integration_save(kind="perfectgym", name="PG", settings=pg_settings(customer_number),
                                   secrets={"client_secret": CLIENT_SECRET})
    page = admin_client.get(url).content.decode()
    assert "Perfect Gym club number" in page and 'name="integration_perfectgym_club"' in page
    response = admin_client.post(url, {"name": "Uxbridge", "alt_id": "UB", "is_active": "on",
                                       "time_zone": "Europe/London", "integration_perfectgym_club": " 12 "})
    assert response.status_code == 302, response.content.decode()[:2000]
    location.refresh_from_db()
    assert location.integration_numbers == {"perfectgym_club": "12"}
    integration_save(integration=integration, name="PG", is_active=False, settings=integration.settings,
                     secrets={})
    assert "integration_perfectgym_club" not in admin_client.get(url).content.decode()


def test_the_catalogue_lists_plans_and_products_and_creates_the_missing(admin_client, sandbox, integration):
    PackageFactory(alt_id="payment_plan_24", name="Our monthly")
    url = f"{CHANGELIST}{integration.pk}/catalogue/"
    page = admin_client.get(url).content.decode()
    plans, products = sandbox.sets["PaymentPlans"].rows.values(), sandbox.sets["Products"].rows.values()
    wanted = {f"payment_plan_{p['id']}": p["name"] for p in plans}
    wanted |= {f"product_{p['id']}": p["name"] for p in products}
    for alt_id, name in wanted.items():
        assert f"<code>{alt_id}</code>" in page and name in page
    assert page.count("<strong>missing</strong>") == len(wanted) - 1
    assert f"Create the {len(wanted) - 1} missing packages" in page
    assert "every 12 months" in page and "add-on" in page
    admin_client.post(url)
    created = dict(Package.objects.exclude(alt_id="payment_plan_24").values_list("alt_id", "name"))
    assert created == {a: n for a, n in wanted.items() if a != "payment_plan_24"}
    assert "<strong>missing</strong>" not in admin_client.get(url).content.decode()


def test_perform_initial_sync_of_one_location_in_the_admin(admin_client, sandbox, integration, tasks_inline):
    response = admin_client.post(CHANGELIST, {"action": "perform_initial_sync", "apply": "1", "scope": "one",
                                              "location": "MAN", "_selected_action": [integration.pk]})
    assert response.status_code == 302
    runs = list(SyncRun.objects.order_by("started_at"))
    assert [(r.sync_name, r.trigger, r.status) for r in runs] == [
        (name, "initial", "succeeded") for name in ("members", "contracts", "member_products")]
    assert runs[0].options == {"initial": True, "location": "MAN"}
    assert set(Client.objects.values_list("external_id", flat=True)) == {
        str(m["id"]) for m in sandbox.sets["Members"].rows.values() if m["homeClubId"] == 3}


def test_the_test_connection_action_names_the_clubs(admin_client, sandbox, integration):
    page = admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [integration.pk]},
                             follow=True).content.decode()
    assert "connection OK (5 club(s): Uxbridge, Spa Road" in page


def test_identity_type_ensure_creates_once(db):
    from clients.services import identity_type_ensure

    first = identity_type_ensure(display_name="Perfect Gym Customer Number")
    again = identity_type_ensure(display_name="Perfect Gym Customer Number", max_per_client=3)
    assert first.pk == again.pk and again.max_per_client == 1 and IdentityType.objects.count() == 1
