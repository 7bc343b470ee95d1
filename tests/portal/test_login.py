"""Portal login, logout and the member-token link: the API's services, defences and answers."""

import re

import pytest
from django.test import Client as Browser

from clients.models import Client, MemberToken
from clients.tokens import member_tokens_issue, member_tokens_revoke_all
from portal.sessions import DEVICE_COOKIE
from tests.api.helpers import PASSWORD
from tests.portal.conftest import portal_login

REFUSED = "Invalid identifier or password."


def error_of(response) -> str:
    found = re.search(r'id="login-error">([^<]*)<', response.content.decode())
    return found.group(1) if found else ""


def test_gatehouse_credentials_log_in_and_the_home_page_greets_the_member(client, member_with_password):
    answer = portal_login(client, next="/portal/doors/")
    assert (answer.status_code, answer["Location"]) == (302, "/portal/doors/")
    session_cookie = answer.cookies["sessionid"]
    assert session_cookie["httponly"] and session_cookie["samesite"] == "Lax"
    device = answer.cookies[DEVICE_COOKIE]
    assert device["httponly"] and device["samesite"] == "Lax" and device["max-age"] == 180 * 86400
    home = client.get("/portal/")
    assert home.status_code == 200 and "Hello, Ada" in home.content.decode()
    assert "home club Riverside" in home.content.decode()


@pytest.mark.parametrize("identifier, password", [
    ("ada@example.com", "wrong-password"), ("nobody@example.com", PASSWORD),
])
def test_unknown_and_wrong_get_the_same_answer(client, member_with_password, identifier, password):
    answer = portal_login(client, identifier, password)
    assert (answer.status_code, error_of(answer)) == (401, REFUSED)
    assert client.get("/portal/").status_code == 302  # not logged in


@pytest.mark.parametrize("identifier", ["ada@example.com", "nobody@example.com"])
def test_with_the_member_system_down_every_identifier_gets_the_same_retry_later(
        client, member_with_password, sandbox, integration, identifier):
    sandbox.inject(status=503, times=5)
    answer = portal_login(client, identifier, "wrong-password")
    assert (answer.status_code, error_of(answer)) == (503, "The member systems cannot be reached. Try again later.")
    assert answer["Retry-After"] == "30"


def test_a_member_system_vouches_and_the_member_is_created(client, sandbox, integration):
    sandbox.member_password_set("m2", "Vendor-pass-9")
    answer = portal_login(client, "m2", "Vendor-pass-9")
    assert answer.status_code == 302
    member = Client.objects.get(source=integration.source, external_id="m2")
    assert f"Hello, {member.first_name}" in client.get("/portal/").content.decode()


def test_blank_fields_are_a_400_with_the_field_named(client, db):
    answer = client.post("/portal/login", {"identifier": "", "password": ""})
    assert answer.status_code == 400 and "This field is required." in answer.content.decode()


def test_the_login_form_needs_its_csrf_token(member_with_password):
    strict = Browser(enforce_csrf_checks=True)
    assert portal_login(strict).status_code == 403
    page = strict.get("/portal/login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert portal_login(strict, csrfmiddlewaretoken=token).status_code == 302


def test_failures_lock_the_address_but_a_known_device_still_gets_in(client, member_with_password):
    assert portal_login(client).status_code == 302  # this browser is now a known device
    client.post("/portal/logout")
    stranger = Browser()
    for _ in range(5):
        assert portal_login(stranger, password="guess", ip="198.51.100.4").status_code == 401
    locked = portal_login(stranger, ip="198.51.100.4")  # even the right password: the pair is locked
    assert (locked.status_code, error_of(locked)) == (429, "Too many failed attempts. Try again later.")
    assert int(locked["Retry-After"]) > 0
    assert portal_login(client, ip="198.51.100.4").status_code == 302  # the member's own browser


def test_next_never_leaves_the_portal(client, member_with_password):
    answer = portal_login(client, next="https://evil.example/portal/")
    assert answer["Location"] == "/portal/"


def test_logout_ends_this_login_only(client, member_with_password):
    other = Browser()
    portal_login(client)
    portal_login(other)
    assert client.post("/portal/logout")["Location"] == "/portal/login"
    assert client.get("/portal/")["Location"].startswith("/portal/login")
    assert other.get("/portal/").status_code == 200
    assert client.get("/portal/logout").status_code == 405  # logging out is a POST (CSRF-checked)


def test_log_out_everywhere_also_ends_the_apps_tokens(client, member_with_password):
    other = Browser()
    portal_login(client)
    portal_login(other)
    app = member_tokens_issue(client=member_with_password)
    assert client.post("/portal/logout-everywhere").status_code == 302
    assert other.get("/portal/").status_code == 302  # the other browser is logged out
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {app.access}").status_code == 401
    assert not MemberToken.objects.filter(client=member_with_password, revoked_at__isnull=True).exists()


def test_a_staff_revocation_ends_the_portal_session_too(client, member_with_password):
    portal_login(client)
    member_tokens_revoke_all(client=member_with_password)
    assert client.get("/portal/doors/")["Location"] == "/portal/login?next=%2Fportal%2Fdoors%2F"


def test_the_member_token_link_logs_in_once(client, sandbox, integration):
    token = sandbox.member_token_issue("m3")
    answer = client.get("/portal/member-token", {"integration": "example", "token": token})
    assert (answer.status_code, answer["Location"], answer["Referrer-Policy"]) == (302, "/portal/", "no-referrer")
    member = Client.objects.get(source=integration.source, external_id="m3")
    assert f"Hello, {member.first_name}" in client.get("/portal/").content.decode()

    replay = Browser().get("/portal/member-token", {"integration": "example", "token": token})
    assert replay.status_code == 401 and "Invalid or expired member token." in replay.content.decode()


def test_member_token_links_that_cannot_work_say_so(client, sandbox, integration):
    assert client.get("/portal/member-token", {"token": "mt_made-up"}).status_code == 401
    assert client.get("/portal/member-token").status_code == 400
    assert client.get("/portal/member-token", {"integration": "nope", "token": "x"}).status_code == 400
    assert client.get("/portal/").status_code == 302
