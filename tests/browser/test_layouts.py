"""Every admin and staff page of the seeds' flows fits a 1280 px wide window without
horizontal scroll, and the staff pages fit a 390 px phone: the document is never wider
than the window (`document.documentElement.scrollWidth <= window.innerWidth`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accessctl.models import Door
from clients.models import Client, Location
from integrations.models import Integration, SyncRun
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox
from integrations.sandbox.transports import free_port, served
from integrations.services import integration_save
from integrations.sync import sync_run
from integrations.tasks import initial_sync_task
from packages.models import Package

pytestmark = pytest.mark.django_db(transaction=True)
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"
# A changelist's table scrolls inside its box when it is too wide: columns hide behind the
# filter panel while the document fits. Its box must not scroll either.
RESULTS = "(b => b ? b.scrollWidth - b.clientWidth : 0)(document.querySelector('#changelist .results'))"


@pytest.fixture
def club_with_perfect_gym():
    """A club as the Perfect Gym seed leaves it: two locations with doors, one package of three,
    an initial sync done (so records wait for the missing packages), swipes, quiet runs."""
    port = free_port()
    fake = PerfectGymSandbox(members=40, seed=7, base_url=f"http://127.0.0.1:{port}/")
    with served(fake, port=port) as url:
        for club_id, alt_id, name in [(1, "UB", "Uxbridge"), (2, "SPA", "Spa Road")]:
            location = Location.objects.create(name=name, alt_id=alt_id, time_zone="Europe/London",
                                               integration_numbers={"perfectgym_club": str(club_id)})
            Door.objects.create(title=f"{name} entrance", door_id=f"door-{alt_id}", location=location)
        Package.objects.create(alt_id="payment_plan_24", name="Monthly membership")
        integration = integration_save(
            kind="perfectgym", name="Perfect Gym (Uxbridge and Spa Road)",
            settings={"base_url": url, "client_id": CLIENT_ID, "create_identity_type": True},
            secrets={"client_secret": CLIENT_SECRET})
        initial_sync_task(integration.pk, {})
        member = Client.objects.filter(source=integration.source, home_location__alt_id="UB").order_by("pk").first()
        for _ in range(3):
            fake.visit_add(member_id=int(member.external_id), club_id=1)
        sync_run(integration=integration, sync_name="visits")
        now = timezone.now()
        SyncRun.objects.bulk_create([SyncRun(integration=integration, sync_name="visits", status="succeeded",
                                             started_at=now - timedelta(minutes=n), finished_at=now)
                                     for n in range(1, 30)])
        yield integration, member


def widths(page, url: str, width: int) -> tuple[int, int]:
    page.set_viewport_size({"width": width, "height": 860})
    page.goto(url)
    scroll, window = page.evaluate(WIDTH)
    return scroll + page.evaluate(RESULTS), window


def test_admin_and_staff_pages_fit_1280_and_staff_pages_fit_a_phone(page, live_server, staff_login,
                                                                     club_with_perfect_gym):
    integration, member = club_with_perfect_gym
    door = Door.objects.get(door_id="door-UB")
    location = Location.objects.get(alt_id="UB")
    admin = [
        "/admin/integrations/integration/",
        f"/admin/integrations/integration/{integration.pk}/change/",
        f"/admin/integrations/integration/{integration.pk}/catalogue/",
        "/admin/integrations/syncrun/",
        "/admin/integrations/syncissue/?resolved=no",
        "/admin/integrations/pendingrecord/",
        "/admin/clients/client/",
        f"/admin/clients/client/{member.pk}/change/",
        f"/admin/clients/location/{location.pk}/change/",
        "/admin/accessctl/door/",
        f"/admin/accessctl/door/{door.pk}/change/",
        "/admin/packages/package/add/?alt_id=payment_plan_31",
        "/admin/clients/identitytype/add/",
    ]
    staff = ["/staff/", "/staff/clients/", f"/staff/clients/{member.pk}/", "/staff/access-log/",
             "/staff/issues/", "/staff/deliveries/"]
    staff_login("/admin/")
    too_wide = {}
    for path in admin + staff:
        scroll, window = widths(page, live_server.url + path, 1280)
        if scroll > window:
            too_wide[(path, 1280)] = scroll
    for path in staff:
        scroll, window = widths(page, live_server.url + path, 390)
        if scroll > window:
            too_wide[(path, 390)] = scroll
    assert not too_wide, too_wide  # {(page, window width): document width}


def test_the_access_log_on_a_phone_shows_each_value_with_its_name(page, live_server, staff_login,
                                                                   club_with_perfect_gym):
    integration, member = club_with_perfect_gym
    staff_login("/admin/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/staff/access-log/")
    row = page.locator("table.access-log tbody tr", has_text=str(member)).first
    door = row.locator("td[data-label=Door]")
    assert door.inner_text() == "Uxbridge entrance"
    assert door.evaluate("td => getComputedStyle(td, '::before').content") == '"Door: "'
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert Integration.objects.get() == integration
