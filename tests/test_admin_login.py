"""The admin (and staff) login: django-axes limits per username and per address, and a
browser that logged in before (the signed device cookie) still gets in with the right
password while an attacker elsewhere is locked out."""

import io
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from integrations.housekeeping import records_purge

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
PASSWORD = "pw-Manager-1"
LIMIT = settings.AXES_FAILURE_LIMIT
COOKIE = settings.ADMIN_DEVICE_COOKIE_NAME
HOME = "198.51.100.7"  # where the manager always logs in


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("manager", "manager@example.com", PASSWORD)


def browser(address: str, **headers) -> Client:
    return Client(REMOTE_ADDR=address, **headers)


def log_in(client: Client, username: str = "manager", password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def known_device(manager) -> Client:
    """The manager's own browser after an earlier login (and logout): it holds the device cookie."""
    device = browser(HOME)
    assert log_in(device).status_code == 302
    device.post("/admin/logout/")
    assert not logged_in(device) and device.cookies[COOKIE].value
    return device


@pytest.mark.parametrize("addresses", ["one address", "a new address each time"])
def test_forty_wrong_passwords_lock_the_username_at_the_limit(manager, addresses):
    statuses = [log_in(browser("203.0.113.9" if addresses == "one address" else f"203.0.113.{n}"),
                       password=f"guess-{n}").status_code for n in range(1, 41)]
    assert statuses == [200] * (LIMIT - 1) + [429] * (40 - LIMIT + 1)
    # The right password from a browser that never logged in, at a new address: refused too.
    newcomer = browser("192.0.2.50")
    assert log_in(newcomer).status_code == 429 and not logged_in(newcomer)
    # Attempts refused during the lockout are not counted (they would extend it).
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == LIMIT


def test_the_lockout_page_says_locked_and_nothing_more(manager):
    for n in range(LIMIT):
        log_in(browser("203.0.113.9"), password=f"guess-{n}")
    for headers in ({}, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}):
        response = log_in(browser("203.0.113.9", **headers))
        page = response.content.decode()
        assert response.status_code == 429 and "<h1>Login temporarily locked</h1>" in page
        main = page.split('<div id="content-main">', 1)[1].split("</div>", 1)[0]
        assert re.sub(r"<[^>]+>", "", main).split() == (
            "Too many failed attempts: this account is temporarily locked. Try again later.".split())


def test_a_known_device_logs_in_while_the_attacker_is_locked_out(manager):
    device = known_device(manager)
    for n in range(40):
        log_in(browser(f"203.0.113.{n + 1}"), password=f"guess-{n}")
    assert log_in(browser("192.0.2.50")).status_code == 429
    response = log_in(device)
    assert response.status_code == 302 and logged_in(device)


def test_a_known_device_still_logs_in_when_its_address_is_locked(manager, django_user_model):
    device = known_device(manager)
    for n in range(LIMIT):  # someone else at the same office address mistypes, for other names
        log_in(browser(HOME), username=f"someone-{n}", password="wrong")
    assert log_in(browser(HOME)).status_code == 429  # a browser that never logged in here
    assert log_in(device).status_code == 302 and logged_in(device)


def test_the_device_cookie_is_signed_http_only_lax_and_long_lived(manager):
    device = browser(HOME)
    log_in(device)
    cookie = device.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == settings.ADMIN_DEVICE_COOKIE_DAYS * 86400
    assert "manager" not in cookie.value


def test_the_device_cookie_is_secure_in_production(manager, settings):
    settings.SESSION_COOKIE_SECURE = True
    device = browser(HOME)
    log_in(device)
    assert device.cookies[COOKIE]["secure"]


def test_a_stolen_device_cookie_is_still_limited_per_address(manager):
    cookie = known_device(manager).cookies[COOKIE].value
    thief = browser("203.0.113.66")
    thief.cookies[COOKIE] = cookie
    statuses = [log_in(thief, password=f"guess-{n}").status_code for n in range(LIMIT + 2)]
    assert statuses == [200] * (LIMIT - 1) + [429] * 3
    assert log_in(thief).status_code == 429 and not logged_in(thief)
    # Its failures count against the username for browsers that never logged in...
    assert log_in(browser("192.0.2.50")).status_code == 429
    # ...but not against the manager's own browser at home.
    home = browser(HOME)
    home.cookies[COOKIE] = cookie
    assert log_in(home).status_code == 302


def test_a_device_cookie_helps_only_the_username_that_logged_in_there(manager, django_user_model):
    django_user_model.objects.create_user("frontdesk", password="pw-Desk-1234", is_staff=True)
    desk = browser(HOME)
    assert log_in(desk, "frontdesk", "pw-Desk-1234").status_code == 302
    for n in range(LIMIT):
        log_in(browser(f"203.0.113.{n + 1}"), password=f"guess-{n}")
    assert log_in(desk).status_code == 429
    tampered = browser(HOME)
    tampered.cookies[COOKIE] = desk.cookies[COOKIE].value[:-2] + "xx"
    for n in range(LIMIT):
        log_in(browser(f"203.0.113.{n + 1}"), "frontdesk", f"guess-{n}")
    assert log_in(tampered, "frontdesk", "pw-Desk-1234").status_code == 429


def test_other_usernames_from_one_address_are_limited_per_address(manager):
    statuses = [log_in(browser("203.0.113.9"), username=f"user-{n}", password="wrong").status_code
                for n in range(LIMIT + 1)]
    assert statuses == [200] * (LIMIT - 1) + [429] * 2
    assert log_in(browser("203.0.113.9")).status_code == 429  # a real user, right password, same address
    elsewhere = browser("192.0.2.50")
    assert log_in(elsewhere).status_code == 302 and logged_in(elsewhere)


def test_a_forwarded_for_header_does_not_dodge_the_address_limit(manager):
    for n in range(LIMIT):
        log_in(browser("203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"), username=f"user-{n}")
    assert log_in(browser("203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.99")).status_code == 429


def test_behind_a_proxy_the_forwarded_address_is_counted(manager, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    log_in(browser("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"), username="someone")
    log_in(browser("10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address"), username="someone-else")
    assert dict(AccessAttempt.objects.values_list("username", "ip_address")) == {
        "someone": "203.0.113.9", "someone-else": "10.0.0.1"}


def test_a_login_clears_its_own_failures_from_its_address_only(manager):
    log_in(browser(HOME), password="typo")
    log_in(browser("203.0.113.9"), password="guess")
    log_in(browser("203.0.113.9"), username="other", password="guess")
    assert log_in(browser(HOME)).status_code == 302
    assert sorted(AccessAttempt.objects.values_list("username", "ip_address")) == [
        ("manager", "203.0.113.9"), ("other", "203.0.113.9")]


def test_housekeeping_forgets_old_admin_login_records(manager):
    log_in(browser("203.0.113.9"), password="guess")
    log_in(browser(HOME))
    log_in(browser("203.0.113.10"), password="guess")
    log_in(browser("192.0.2.1"))
    old = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    AccessAttempt.objects.filter(ip_address="203.0.113.9").update(attempt_time=old)
    AccessLog.objects.filter(ip_address=HOME).update(
        attempt_time=timezone.now() - timedelta(days=settings.RECORDS_KEEP_DAYS + 1))
    assert records_purge()["admin login records"] == 2
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.10"]
    assert list(AccessLog.objects.values_list("ip_address", flat=True)) == ["192.0.2.1"]


def test_a_manager_unlocks_a_username_with_the_command_or_the_admin(manager, django_user_model):
    for n in range(LIMIT):
        log_in(browser(f"203.0.113.{n + 1}"), password=f"guess-{n}")
    assert log_in(browser("192.0.2.50")).status_code == 429
    call_command("axes_reset_username", "manager", stdout=io.StringIO())
    assert log_in(browser("192.0.2.50")).status_code == 302

    for n in range(LIMIT):
        log_in(browser(f"203.0.113.{n + 1}"), password=f"guess-{n}")
    other = django_user_model.objects.create_superuser("other", "other@example.com", "pw-Other-123")
    admin = Client()
    admin.force_login(other)
    page = admin.get("/admin/axes/accessattempt/").content.decode()
    assert "203.0.113.1" in page and "manager" in page
    pks = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    admin.post("/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": pks, "post": "yes"})
    assert not AccessAttempt.objects.exists()
    assert log_in(browser("192.0.2.50")).status_code == 302
