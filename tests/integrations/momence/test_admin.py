"""Settings > Integrations for Momence: the settings form with its secrets, the catalogue
page, the delivery logs."""

import pytest

from integrations.models import Delivery, Integration
from integrations.momence.sandbox import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME
from packages.models import Package
from tests.factories import BookingFactory
from tests.integrations.momence.conftest import MOMENCE_URL

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"
SECRET_FIELDS = ("client_id", "client_secret", "username", "password")


def form_data(location, **changes):
    return {"name": "Momence studio", "is_active": "on", "base_url": MOMENCE_URL, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "username": USERNAME, "password": PASSWORD,
            "location": location.pk, "members_minutes": "15", "sessions_minutes": "15", "days_ahead": "14",
            "memberships_per_run": "200", "checkin_minutes_before": "60", "push_tags": "on",
            "check_in": "on", **changes}


def test_momence_is_offered_and_its_form_hides_the_secrets(admin_client, location):
    assert "?kind=momence" in admin_client.get(CHANGELIST + "add/").content.decode()
    page = admin_client.get(CHANGELIST + "add/?kind=momence").content.decode()
    for field in SECRET_FIELDS:
        assert f'<input type="password" name="{field}"' in page
    assert 'name="location"' in page and "Studio" in page


def test_adding_stores_the_credentials_as_secrets(admin_client, location):
    response = admin_client.post(CHANGELIST + "add/?kind=momence", form_data(location))
    assert response.status_code == 302, response.content.decode()[:3000]
    integration = Integration.objects.get(kind="momence")
    assert integration.secrets() == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                     "username": USERNAME, "password": PASSWORD}
    assert not set(SECRET_FIELDS) & set(integration.settings)
    assert integration.settings["location"] == location.pk and integration.settings["days_ahead"] == 14
    assert PASSWORD not in integration.secrets_token


def test_editing_never_shows_a_secret_and_blank_keeps_it(admin_client, integration, location):
    url = f"{CHANGELIST}{integration.pk}/change/"
    page = admin_client.get(url).content.decode()
    for secret in (CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD):
        assert secret not in page
    blanks = dict.fromkeys(SECRET_FIELDS, "")
    response = admin_client.post(url, form_data(location, name="Renamed", days_ahead="7", **blanks))
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.settings["days_ahead"] == 7 and integration.secrets()["password"] == PASSWORD


def test_missing_credentials_are_refused(admin_client, location):
    response = admin_client.post(CHANGELIST + "add/?kind=momence", form_data(location, password=""))
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Integration.objects.exists()


def test_test_connection_logs_in(admin_client, sandbox, integration):
    sandbox.member_put(1001, firstName="Ana")
    page = admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [integration.pk]},
                             follow=True).content.decode()
    assert "connection OK (logged in; the host has 1 member(s))" in page


def test_catalogue_page_lists_memberships_with_their_kinds_and_creates_packages(admin_client, sandbox,
                                                                               integration):
    url = f"{CHANGELIST}{integration.pk}/catalogue/"
    page = admin_client.get(url).content.decode()
    assert "momence_12" in page and "8 visits a month" in page and "combined limit 8" in page
    assert "Create the 7 missing packages" in page
    admin_client.post(url)
    assert dict(Package.objects.values_list("alt_id", "kind"))["momence_13"] == "separate_limits"
    pack = Package.objects.get(alt_id="momence_14")
    assert (pack.kind, pack.credits) == ("credit_pack", 10)
    assert "missing</strong>" not in admin_client.get(url).content.decode()


def test_check_in_log_is_shown_to_staff_and_failed_ones_can_be_retried(admin_client, integration):
    booking = BookingFactory(source=integration.source, external_id="booking:555")
    delivery = Delivery.objects.create(integration=integration, kind="checkin", key=f"checkin:booking:{booking.pk}",
                                       sync_name="checkins", record_type="booking", record_id=booking.pk,
                                       payload={"booking_ref": "555"}, state="gave_up", attempts=5,
                                       last_error="momence: answered 500")
    page = admin_client.get("/admin/integrations/delivery/").content.decode()
    assert "555" in page and "answered 500" in page and "Failed (gave up)" in page
    admin_client.post("/admin/integrations/delivery/", {"action": "retry_now", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
