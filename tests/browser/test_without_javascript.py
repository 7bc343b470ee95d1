"""Every staff page works with JavaScript off (only the access log's live refresh needs it)."""

import pytest
from django.utils import timezone

from accessctl.services import DoorEntry, door_accesses_record
from tests.factories import ClientFactory, DoorFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page_without_js(chromium):
    context = chromium.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def test_staff_pages_work_without_javascript(page_without_js, live_server, django_user_model):
    page = page_without_js
    django_user_model.objects.create_superuser("manager", "manager@example.com", "pw-Manager-1")
    member, door = ClientFactory(first_name="Nojs"), DoorFactory(title="Side gate")
    door_accesses_record(source="pg-1", entries=[DoorEntry(member.pk, door, timezone.now(), True, "v1")])
    page.goto(f"{live_server.url}/admin/login/?next=/staff/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pw-Manager-1")
    page.click("input[type=submit]")
    assert page.locator("h1").inner_text() == "Integrations"
    page.goto(f"{live_server.url}/staff/access-log/")
    assert "Side gate" in page.locator("table.access-log").inner_text()
    page.select_option("select[name=door]", str(door.pk))
    page.click("text=Filter")  # a plain form submit
    assert "Nojs" in page.locator("table.access-log tbody").inner_text()
    page.click("text=Nojs")
    assert page.locator("h1").inner_text().startswith("Nojs")
    page.goto(f"{live_server.url}/staff/issues/")
    assert "No open issues" in page.content()
