"""The member app's login with Gatehouse credentials, tokens, logout and lockout, over HTTP."""

import logging

import pytest

from clients.models import ClientIdentity, MemberToken
from tests.api.helpers import COUNTING_HASHERS, PASSWORD, CountingHasher, bearer, login, member_create
from tests.factories import IdentityTypeFactory

pytestmark = pytest.mark.django_db
REFUSED = {"detail": "Invalid identifier or password."}


def test_own_password_logs_in_and_the_access_token_opens_me(client):
    member = member_create(email="ada@example.com", first_name="Ada")

    answer = login(client, "ADA@example.com ", PASSWORD)

    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["client"]["id"] == member.pk
    assert body["access"].startswith("gha_") and body["refresh"].startswith("ghr_")
    me = client.get("/api/v1/me", **bearer(body["access"]))
    assert me.status_code == 200 and me.json()["client"]["first_name"] == "Ada"
    stored = set(MemberToken.objects.values_list("digest", flat=True))
    assert body["access"] not in stored and len(stored) == 2  # digests only


@pytest.mark.parametrize("which", ["alt_id", "identity"])
def test_member_number_and_identity_values_are_identifiers(client, which):
    member = member_create(alt_id="M1042")
    ClientIdentity.objects.create(client=member, identity_type=IdentityTypeFactory(), value="CARD-77")

    answer = login(client, "m1042" if which == "alt_id" else "card-77", PASSWORD)

    assert answer.status_code == 200 and answer.json()["client"]["id"] == member.pk


def test_unknown_account_wrong_password_and_no_app_password_answer_alike(client):
    member_create(email="ada@example.com")
    member_create(email="bob@example.com", password=None)

    answers = [login(client, "nobody@example.com", PASSWORD), login(client, "ada@example.com", "wrong-one"),
               login(client, "bob@example.com", PASSWORD)]

    assert {a.status_code for a in answers} == {401}
    assert all(a.json() == REFUSED for a in answers)
    assert {a.headers["WWW-Authenticate"] for a in answers} == {'Bearer realm="gatehouse"'}
    assert MemberToken.objects.count() == 0


def test_every_login_hashes_once_however_many_accounts_share_the_identifier(client, settings):
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    member_create(email="solo@example.com")
    family = [member_create(email="family@example.com", alt_id=f"F{n}") for n in range(3)]
    cases = {"no account": ("nobody@example.com", PASSWORD), "one, wrong": ("solo@example.com", "wrong-one"),
             "one, right": ("solo@example.com", PASSWORD), "three, wrong": ("family@example.com", "wrong-one"),
             "three, right": ("family@example.com", PASSWORD), "one of three by number": ("f1", PASSWORD)}
    seen = {}
    for n, (case, (identifier, password)) in enumerate(cases.items()):
        CountingHasher.reset()
        answer = login(client, identifier, password, ip=f"192.0.2.{n}")
        seen[case] = (answer.status_code, CountingHasher.calls)

    assert seen == {"no account": (401, 1), "one, wrong": (401, 1), "one, right": (200, 1),
                    "three, wrong": (401, 1), "three, right": (401, 1), "one of three by number": (200, 1)}
    assert login(client, "F2", PASSWORD, ip="192.0.2.99").json()["client"]["id"] == family[2].pk


def test_a_deleted_client_cannot_log_in(client):
    from clients.services import client_delete

    member = member_create(email="gone@example.com")
    client_delete(client=member)

    assert login(client, "gone@example.com", PASSWORD).status_code == 401


def test_missing_fields_are_a_400(client):
    answer = client.post("/api/v1/auth/login", {"identifier": "a@example.com"}, content_type="application/json")
    assert answer.status_code == 400 and "password" in answer.json()


def refresh(api, token: str):
    return api.post("/api/v1/auth/refresh", {"refresh": token}, content_type="application/json")


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_login(client, clock):
    member_create(email="ada@example.com")
    first = login(client, "ada@example.com", PASSWORD).json()

    second = client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]}, content_type="application/json")
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh"] != first["refresh"]
    assert client.get("/api/v1/me", **bearer(fresh["access"])).status_code == 200

    clock.advance(seconds=11)  # past the grace for an app that fires twice
    replay = client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]}, content_type="application/json")
    assert replay.status_code == 401
    # The stolen-copy case: everything of that login stops working, the newest pair too.
    assert client.get("/api/v1/me", **bearer(fresh["access"])).status_code == 401
    again = client.post("/api/v1/auth/refresh", {"refresh": fresh["refresh"]}, content_type="application/json")
    assert again.status_code == 401


def test_a_refresh_sent_twice_within_the_grace_gets_the_same_pair(client, clock):
    member_create(email="ada@example.com")
    first = login(client, "ada@example.com", PASSWORD).json()

    once = refresh(client, first["refresh"])
    clock.advance(seconds=9)
    twice = refresh(client, first["refresh"])

    assert once.status_code == twice.status_code == 200
    assert (twice.json()["access"], twice.json()["refresh"]) == (once.json()["access"], once.json()["refresh"])
    assert client.get("/api/v1/me", **bearer(twice.json()["access"])).status_code == 200
    stored = " ".join(MemberToken.objects.values_list("successor", flat=True))
    assert once.json()["refresh"] not in stored and once.json()["access"] not in stored
    assert refresh(client, twice.json()["refresh"]).status_code == 200  # the app carries on


def test_no_grace_after_logout(client):
    member_create(email="ada@example.com")
    first = login(client, "ada@example.com", PASSWORD).json()
    fresh = refresh(client, first["refresh"]).json()

    assert client.post("/api/v1/auth/logout", **bearer(fresh["access"])).status_code == 204

    assert refresh(client, first["refresh"]).status_code == 401
    assert not MemberToken.objects.exclude(successor="").exists()


def test_access_and_refresh_tokens_expire(client, clock):
    member_create(email="ada@example.com")
    tokens = login(client, "ada@example.com", PASSWORD).json()

    clock.advance(minutes=16)
    assert client.get("/api/v1/me", **bearer(tokens["access"])).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json")
    assert refreshed.status_code == 200

    clock.advance(days=31)
    late = client.post("/api/v1/auth/refresh", {"refresh": refreshed.json()["refresh"]},
                       content_type="application/json")
    assert late.status_code == 401


def test_logout_ends_this_login_only(client):
    member_create(email="ada@example.com")
    phone = login(client, "ada@example.com", PASSWORD).json()
    tablet = login(client, "ada@example.com", PASSWORD).json()

    assert client.post("/api/v1/auth/logout", **bearer(phone["access"])).status_code == 204

    assert client.get("/api/v1/me", **bearer(phone["access"])).status_code == 401
    assert client.post("/api/v1/auth/refresh", {"refresh": phone["refresh"]},
                       content_type="application/json").status_code == 401
    assert client.get("/api/v1/me", **bearer(tablet["access"])).status_code == 200


def test_staff_revoke_every_app_token_of_a_client_from_the_admin(client, manager_client):
    member = member_create(email="ada@example.com")
    other = member_create(email="bob@example.com")
    ada = [login(client, "ada@example.com", PASSWORD).json() for _ in range(2)]
    bob = login(client, "bob@example.com", PASSWORD).json()

    page = manager_client.post("/admin/clients/client/", {
        "action": "revoke_app_tokens", "_selected_action": [member.pk]}, follow=True)

    assert "Revoked 4 app token(s) of 1 client(s)." in page.content.decode()
    for tokens in ada:
        assert client.get("/api/v1/me", **bearer(tokens["access"])).status_code == 401
        assert client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]},
                           content_type="application/json").status_code == 401
    assert client.get("/api/v1/me", **bearer(bob["access"])).status_code == 200
    assert other.app_tokens.filter(revoked_at__isnull=True).count() == 2


def test_a_staff_session_is_not_a_member(manager_client):
    assert manager_client.get("/api/v1/me").status_code in (401, 403)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer gha_forged", "Bearer ghr_notanaccess"])
def test_bad_authorization_headers_are_401(client, header):
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=header).status_code == 401


def test_every_attempt_is_logged_and_the_password_never(client, caplog):
    member_create(email="ada@example.com")
    caplog.set_level(logging.DEBUG)

    login(client, "ada@example.com", PASSWORD)
    login(client, "ada@example.com", "Wrong-Secret-99")
    login(client, "nobody@example.com", "Other-Secret-77")

    lines = [r.getMessage() for r in caplog.records if r.name == "gatehouse.login"]
    assert [line.split()[1] for line in lines] == ["outcome=ok", "outcome=failed", "outcome=failed"]
    text = caplog.text
    for secret in (PASSWORD, "Wrong-Secret-99", "Other-Secret-77", "ada@example.com", "nobody@example.com"):
        assert secret not in text
