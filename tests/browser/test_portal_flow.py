"""The member portal in a real browser at 390 px: a Perfect Gym member logs in with their
Perfect Gym password against its sandbox, sees a package and a booking's door window,
opens a geofenced door from inside the radius, is told how far away they are from outside
it and what to do when location is refused, pays a paid door once though the button is
pressed twice, and logs out; a Gladstone member's partner link logs them in once."""

import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accessctl.models import DoorAccess, DoorRules, TagSequence, UnlockAttempt
from clients.models import Client, ClubSettings, Location
from integrations.gladstone.sandbox import APP_NAME, USERNAME, GladstoneSandbox
from integrations.gladstone.sandbox import PASSWORD as GLADSTONE_PASSWORD
from integrations.gladstone.tokens import member_token_create
from integrations.models import SyncRun
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PASSWORD, PerfectGymSandbox
from integrations.sandbox.transports import free_port, served
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import ClassSession, ClientPackage, Package
from tests.accessctl.doubles import RecordingDoors
from tests.browser.conftest import SCREENSHOTS
from tests.factories import BookingFactory, DoorFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)
RIVERSIDE = (51.5007, -0.1246)
INSIDE = {"latitude": 51.5010, "longitude": -0.1246}  # about 33 m north: inside 500 ft
OUTSIDE = {"latitude": 51.5107, "longitude": -0.1246}  # about 1.1 km north
MEMBER = 13  # a seeded Perfect Gym member with a password, home club 2
TOKEN_KEY = "q0m8m1Zr9Vt0kYJ2s3bFQyS7lC2a8HcX4wE5nR6tU1o"


class HeldDoors(RecordingDoors):
    """The test door backend, which can be held (a slow door) until the test lets it answer."""

    released = threading.Event()

    def unlock(self, door, *, latitude=None, longitude=None):
        assert HeldDoors.released.wait(timeout=20), "the test never let the door answer"
        return super().unlock(door, latitude=latitude, longitude=longitude)


@pytest.fixture
def doors_backend(settings):
    settings.ACCESS_DOOR_BACKENDS = {"kisi": f"{__name__}.HeldDoors"}
    RecordingDoors.calls, RecordingDoors.error = [], None
    HeldDoors.released.set()
    yield HeldDoors
    HeldDoors.released.set()


@pytest.fixture
def phone(chromium, live_server):
    """A 390 px phone whose browser may tell the portal where it is (set per test)."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                   device_scale_factor=1)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield context, tab
    context.close()


def fits(page, width: int = 390) -> None:
    """The page fits the phone's width: nothing scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def snap(page, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def perfectgym_club(doors_backend):
    """Perfect Gym at its sandbox, synced: member 13 holds a 10-visit pack (which gives the tag the
    geofenced main entrance opens for) and has a Spin class tomorrow whose tag loan opens 30 min early."""
    fake = PerfectGymSandbox(members=30, seed=5, base_url=f"http://127.0.0.1:{free_port()}/")
    fake.member_product_put(memberId=MEMBER, clubId=2, productId=26, initialQuantity=10, currentQuantity=10)
    port = int(fake.base_url.rsplit(":", 1)[1].strip("/"))
    ClubSettings.objects.create(name="Riverside Fitness", colour="#1d4f91")
    for club in (1, 2, 3, 4):
        Location.objects.create(name="Riverside" if club == 2 else f"Club {club}", alt_id=f"C{club}",
                                time_zone="Europe/London", integration_numbers={"perfectgym_club": str(club)},
                                latitude=Decimal(str(RIVERSIDE[0])), longitude=Decimal(str(RIVERSIDE[1])))
    riverside = Location.objects.get(alt_id="C2")
    members_tag = TagFactory(name="members")
    pack = Package.objects.create(alt_id="product_26", name="10-visit pack", kind=Package.Kind.CREDIT_PACK,
                                  credits=10)
    pack.tags.add(members_tag)
    for alt_id in ("payment_plan_24", "payment_plan_25", "payment_plan_31"):
        Package.objects.create(alt_id=alt_id, name="Monthly membership")
    entrance = DoorFactory(title="Main entrance", location=riverside, access_control="kisi", kisi_lock_id="1")
    DoorRules.objects.create(door=entrance, geofence=True, geofence_radius=500, geofence_unit="ft").tags.add(
        members_tag)
    open_gym = DoorFactory(title="Open gym", location=riverside, access_control="kisi", kisi_lock_id="2")
    DoorRules.objects.create(door=open_gym, paid_access=True, geofence=True, geofence_radius=500)
    visit = open_gym.visit_types.create(name="Open gym visit", price=2)
    visit.packages.add(pack)
    with served(fake, port=port) as url:
        integration = integration_save(kind="perfectgym", name="Perfect Gym", settings={
            "base_url": url, "client_id": CLIENT_ID, "identity_type": None, "create_identity_type": False,
            "sync_members": True, "member_minutes": 10, "sync_swipes": True, "swipe_minutes": 5,
            "attendance_minutes": 30}, secrets={"client_secret": CLIENT_SECRET})
        for name in ("members", "contracts", "member_products"):
            run = sync_run(integration=integration, sync_name=name, options={"initial": True})
            assert run.status == SyncRun.Status.SUCCEEDED, run.error
        member = Client.objects.get(source=integration.source, external_id=str(MEMBER))
        start = timezone.localtime(timezone.now() + timedelta(days=1), riverside.zone).replace(
            hour=14, minute=0, second=0, microsecond=0)
        spin = ClassSession.objects.create(name="Spin", location=riverside, start=start,
                                           end=start + timedelta(minutes=45))
        BookingFactory(client=member, session=spin)
        TagSequence.objects.create(tag=TagFactory(name="studio"), class_names="Spin", minutes_before=30)
        yield {"member": member, "entrance": entrance, "open_gym": open_gym, "fake": fake}


def log_in(page, base: str, identifier: str, password: str) -> None:
    page.goto(f"{base}/portal/login")
    page.get_by_label("E-mail or member number").fill(identifier)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def door_card(page, title: str):
    return page.locator("article.door", has=page.get_by_role("heading", name=title))


def test_a_perfect_gym_member_logs_in_and_opens_doors_from_the_phone(phone, live_server, perfectgym_club):
    context, page = phone
    base, member = live_server.url, perfectgym_club["member"]
    log_in(page, base, f"member{MEMBER}@pg.example", "not-my-password")
    assert page.get_by_role("alert").inner_text() == "Invalid identifier or password."
    fits(page)
    page.keyboard.press("Tab")  # keyboard users meet the skip link first, then the page in reading order
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    snap(page, "portal-login")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {member.first_name}"
    packages = page.locator("section", has=page.get_by_role("heading", name="Memberships and packages"))
    assert "10-visit pack" in packages.inner_text() and "10 credits left" in packages.inner_text()
    booking = page.locator("article.booking", has_text="Spin")
    assert "Doors open for you from 13:30." in booking.inner_text()
    fits(page)
    snap(page, "portal-home")

    # Inside the radius: the browser says where the phone is, the door opens.
    context.grant_permissions(["geolocation"], origin=base)
    context.set_geolocation(INSIDE)
    page.get_by_role("link", name="Doors").click()
    entrance = door_card(page, "Main entrance")
    assert "Opens with your 10-visit pack." in entrance.inner_text()
    assert door_card(page, "Open gym").locator(".price").inner_text() == "2 credits"
    fits(page)
    snap(page, "portal-doors")
    entrance.get_by_role("button", name="Open").click()
    page.wait_for_url("**/portal/doors/attempts/*/")
    assert "Opened." in page.get_by_role("status").inner_text()
    (pk, latitude, longitude), = [c for c in RecordingDoors.calls]
    assert pk == perfectgym_club["entrance"].pk and latitude == pytest.approx(INSIDE["latitude"])
    assert DoorAccess.objects.filter(client=member, door=perfectgym_club["entrance"]).count() == 1

    # Outside it: refused in red with the distance, in the door's own unit.
    context.set_geolocation(OUTSIDE)
    page.get_by_role("link", name="Back to doors").click()
    door_card(page, "Main entrance").get_by_role("button", name="Open").click()
    page.wait_for_url("**/portal/doors/attempts/*/")
    refusal = page.get_by_role("alert")
    assert refusal.inner_text() == "You are 3,648 ft away from Riverside; this door opens within 500 ft."
    assert refusal.evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"
    fits(page)
    snap(page, "portal-too-far")

    # A paid door: its price first, then one payment though Pay and open is pressed twice.
    context.set_geolocation(INSIDE)
    page.get_by_role("link", name="Back to doors").click()
    door_card(page, "Open gym").get_by_role("link", name="Open…").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Pay 2 credits to open Open gym?"
    fits(page)
    snap(page, "portal-confirm")
    # The door is slow to answer, so the member presses again while the first press is handled.
    HeldDoors.released.clear()
    opening = f"{base}/portal/doors/{perfectgym_club['open_gym'].pk}/open"
    sent = []
    page.on("request", lambda request: sent.append(request.method) if request.url == opening else None)
    # Pressed, and pressed again a moment later (Playwright's own click would wait for the first page).
    page.evaluate("""() => {
        const pay = [...document.querySelectorAll('button')].find(b => b.textContent === 'Pay and open');
        pay.click();
        setTimeout(() => pay.click(), 500);
    }""")
    for _ in range(100):  # until both presses reached the server (the door holds the first)
        if len(sent) == 2:
            break
        page.wait_for_timeout(100)
    assert sent == ["POST", "POST"]
    HeldDoors.released.set()
    page.get_by_text("Your 10-visit pack has 8 credits left.").wait_for()
    assert ClientPackage.objects.get(client=member, package__alt_id="product_26").credits_remaining == 8
    assert UnlockAttempt.objects.filter(client=member, door=perfectgym_club["open_gym"]).count() == 1

    page.get_by_role("button", name="Log out", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    page.goto(f"{base}/portal/doors/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"


def test_refused_geolocation_says_how_to_turn_it_on(phone, live_server, perfectgym_club):
    context, page = phone
    log_in(page, live_server.url, str(100000 + MEMBER), PASSWORD)  # the member number works too
    page.get_by_role("link", name="Doors").click()
    entrance = door_card(page, "Main entrance")
    assert "Turn on location: this door opens within 500 ft of Riverside." in entrance.inner_text()
    entrance.get_by_role("button", name="Open").click()  # no permission granted: the browser refuses
    message = entrance.get_by_role("alert")
    message.wait_for()
    assert message.inner_text().startswith("Location is off for this site")
    assert not UnlockAttempt.objects.exists() and RecordingDoors.calls == []
    fits(page)
    snap(page, "portal-location-refused")


def test_without_javascript_a_member_logs_in_and_opens_a_door(chromium, live_server, perfectgym_club):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        DoorRules.objects.filter(door=perfectgym_club["entrance"]).update(geofence=False)
        log_in(page, live_server.url, f"member{MEMBER}@pg.example", PASSWORD)
        page.get_by_role("link", name="Doors").click()
        door_card(page, "Main entrance").get_by_role("button", name="Open").click()
        page.wait_for_url("**/portal/doors/attempts/*/")
        assert "Opened." in page.get_by_role("status").inner_text()
    finally:
        context.close()


@pytest.fixture
def gladstone_club():
    fake = GladstoneSandbox(members=0)
    Location.objects.create(name="Uxbridge", alt_id="UB", time_zone="Europe/London")
    ClubSettings.objects.create(name="Riverside Fitness", colour="#1d4f91")
    member_id = fake.member_put(forename="Grace", surname="Hopper", email="grace@example.com",
                                dob=timezone.now().date().replace(year=1990), site_id="UB", status_id="LIVE")
    with served(fake) as url:
        integration = integration_save(kind="gladstone", name="Gladstone", settings={
            "base_url": url, "app_name": APP_NAME, "username": USERNAME, "active_statuses": ["LIVE"],
            "subscription_type_groups": [], "minimum_age": None, "notification_emails": [],
            "validation_type": "Password", "delete_on_is_deleted": False, "system_name": "Gatehouse",
            "sync_minutes": 5}, secrets={"password": GLADSTONE_PASSWORD, "member_token_key": TOKEN_KEY})
        assert sync_run(integration=integration, sync_name="members").status == SyncRun.Status.SUCCEEDED
        yield member_id


def test_a_partner_apps_link_logs_the_gladstone_member_in_once(phone, live_server, gladstone_club):
    context, page = phone
    link = f"{live_server.url}/portal/member-token?integration=gladstone&token=" + member_token_create(
        key=TOKEN_KEY, member_id=gladstone_club)
    page.goto(link)
    assert page.url == f"{live_server.url}/portal/"
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Grace"
    assert "home club Uxbridge" in page.locator("main").inner_text()
    fits(page)
    snap(page, "portal-member-link")
    page.set_viewport_size({"width": 320, "height": 640})  # a desktop browser zoomed to 400 %
    fits(page, 320)

    page.get_by_role("button", name="Log out", exact=True).click()
    page.goto(link)  # the same link again: it does not log in a second time
    assert page.get_by_role("alert").inner_text() == "Invalid or expired member token."
    page.goto(f"{live_server.url}/portal/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
