"""The settings form as the seed lists it, through the admin and the `integration add` command."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import Schedule

from integrations.gladstone.sandbox import APP_NAME, PASSWORD, USERNAME
from integrations.models import Integration
from integrations.scheduling import schedule_name
from tests.integrations.gladstone.conftest import GLADSTONE_URL, TOKEN_KEY

pytestmark = pytest.mark.django_db
ADD = "/admin/integrations/integration/add/?kind=gladstone"
FIELDS = [
    "base_url",
    "app_name",
    "username",
    "password",
    "active_statuses",
    "subscription_type_groups",
    "minimum_age",
    "notification_emails",
    "validation_type",
    "delete_on_is_deleted",
    "system_name",
    "sync_minutes",
    "first_lookback_days",
    "attendance_minutes",
    "member_token_key",
]


def form_data(**changes) -> dict:
    data = {
        "name": "Gladstone",
        "is_active": "on",
        "base_url": GLADSTONE_URL,
        "app_name": APP_NAME,
        "username": USERNAME,
        "password": PASSWORD,
        "active_statuses": "LIVE, FROZEN",
        "subscription_type_groups": "FISIK, PT01",
        "minimum_age": "16",
        "notification_emails": "ops@club.example, lead@club.example",
        "validation_type": "SecurePassword",
        "delete_on_is_deleted": "on",
        "system_name": "Gatehouse",
        "sync_minutes": "3",
        "member_token_key": TOKEN_KEY,
    }
    return {k: v for k, v in {**data, **changes}.items() if v is not None}


def test_gladstone_is_offered_when_adding_an_integration(admin_client):
    page = admin_client.get("/admin/integrations/integration/add/").content.decode()
    assert "Gladstone Plus2" in page and "?kind=gladstone" in page


def test_the_form_has_every_field_of_the_seed(admin_client):
    page = admin_client.get(ADD).content.decode()
    for field in ["name", "is_active", *FIELDS]:
        assert f'name="{field}"' in page, field
    for option in ("PIN", "Password", "SecurePassword"):
        assert f'<option value="{option}"' in page
    assert page.count('type="password"') == 2  # Password and the member token key


def test_adding_stores_settings_lists_secrets_and_schedules(admin_client):
    response = admin_client.post(ADD, form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    integration = Integration.objects.get(name="Gladstone")
    assert integration.settings["active_statuses"] == ["LIVE", "FROZEN"]
    assert integration.settings["subscription_type_groups"] == ["FISIK", "PT01"]
    assert integration.settings["notification_emails"] == ["ops@club.example", "lead@club.example"]
    assert integration.settings["minimum_age"] == 16 and integration.settings["delete_on_is_deleted"] is True
    assert integration.secrets() == {"password": PASSWORD, "member_token_key": TOKEN_KEY}
    assert "password" not in integration.settings and "member_token_key" not in integration.settings
    minutes = {s.name: s.minutes for s in Schedule.objects.filter(name__startswith="integration:")}
    assert minutes == {
        schedule_name(integration.pk, "members"): 3,
        schedule_name(integration.pk, "accesses"): 3,
        schedule_name(integration.pk, "audit"): 24 * 60,
    }
    page = admin_client.get(f"/admin/integrations/integration/{integration.pk}/change/").content.decode()
    assert "LIVE, FROZEN" in page and PASSWORD not in page and TOKEN_KEY not in page


def test_base_url_without_trailing_slash_is_refused_with_the_reason(admin_client):
    response = admin_client.post(ADD, form_data(base_url="https://gladstone.test/MemberWebService"))
    page = response.content.decode()
    assert response.status_code == 200 and not Integration.objects.exists()
    assert "must end with &quot;/&quot;" in page and "appended to it" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subscription_type_groups", "FISIK, TOOLONG", "longer than 5 characters"),
        ("notification_emails", "ops@club.example, not-an-email", "is not an email address"),
        ("minimum_age", "-1", "greater than or equal to 0"),
        ("validation_type", "Magic", "Select a valid choice"),
        ("member_token_key", "c2hvcnQ=", "must be 32 bytes"),
        ("active_statuses", " , ", "This field is required"),
    ],
)
def test_invalid_settings_are_refused(admin_client, field, value, message):
    page = admin_client.post(ADD, form_data(**{field: value})).content.decode()
    assert message in page and not Integration.objects.exists()


def test_optional_settings_may_stay_empty(admin_client):
    response = admin_client.post(
        ADD,
        form_data(subscription_type_groups="", minimum_age="", notification_emails="", member_token_key=""),
    )
    assert response.status_code == 302
    settings = Integration.objects.get().settings
    assert settings["minimum_age"] is None and settings["subscription_type_groups"] == []


def test_inactive_integration_keeps_its_settings_and_pauses_its_schedules(admin_client):
    admin_client.post(ADD, form_data())
    integration = Integration.objects.get()
    response = admin_client.post(
        f"/admin/integrations/integration/{integration.pk}/change/",
        form_data(is_active=None, password="", member_token_key=""),
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert not integration.is_active and integration.settings["active_statuses"] == ["LIVE", "FROZEN"]
    assert integration.secrets()["password"] == PASSWORD
    assert set(Schedule.objects.filter(name__startswith="integration:").values_list("repeats", flat=True)) == {0}


def test_integration_add_command(db):
    call_command(
        "integration",
        "add",
        "gladstone",
        "Scripted",
        "--set",
        f"base_url={GLADSTONE_URL}",
        "--set",
        f"app_name={APP_NAME}",
        "--set",
        f"username={USERNAME}",
        "--set",
        f"password={PASSWORD}",
        "--set",
        "active_statuses=LIVE",
        "--set",
        "validation_type=PIN",
        "--set",
        "system_name=GH",
        "--set",
        "sync_minutes=5",
    )
    assert Integration.objects.get(name="Scripted").settings["active_statuses"] == ["LIVE"]
    with pytest.raises(CommandError, match="must end with"):
        call_command(
            "integration",
            "add",
            "gladstone",
            "Bad",
            "--set",
            "base_url=https://g.test/api",
            "--set",
            f"app_name={APP_NAME}",
            "--set",
            f"username={USERNAME}",
            "--set",
            "password=x",
            "--set",
            "active_statuses=LIVE",
            "--set",
            "validation_type=PIN",
            "--set",
            "system_name=GH",
            "--set",
            "sync_minutes=5",
        )
