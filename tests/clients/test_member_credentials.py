"""Gatehouse's own member credentials and app tokens, at the service level."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from clients.credentials import client_password_check, client_password_set
from clients.models import Client, ClientIdentity, MemberToken
from clients.tokens import (
    TokenRefused,
    member_token_authenticate,
    member_token_refresh,
    member_tokens_issue,
    member_tokens_revoke_all,
)
from tests.factories import ClientFactory, IdentityTypeFactory

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """Counts password hashes (each check or make is one encode)."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def counting(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def test_a_password_is_stored_hashed_and_checked(counting):
    member = ClientFactory(email="ada@example.com")
    client_password_set(client=member, password="S3cret-pass")

    stored = Client.objects.get(pk=member.pk).password
    assert stored.startswith("counting_md5$") and "S3cret-pass" not in stored
    assert client_password_check(identifier="ada@example.com", password="S3cret-pass") == member
    assert client_password_check(identifier="ada@example.com", password="s3cret-pass") is None


def test_every_check_costs_exactly_one_hash_whatever_the_account(counting):
    with_password = ClientFactory(email="ada@example.com")
    client_password_set(client=with_password, password="S3cret-pass")
    ClientFactory(email="bob@example.com")  # no app password
    cases = [("ada@example.com", "S3cret-pass"), ("ada@example.com", "wrong"), ("nobody@example.com", "x"),
             ("bob@example.com", "x"), ("", "x"), ("ada@example.com", "")]
    costs = []
    for identifier, password in cases:
        counting.calls = 0
        client_password_check(identifier=identifier, password=password)
        costs.append(counting.calls)
    assert costs == [1] * len(cases)


def test_an_old_hash_is_upgraded_on_a_successful_check(settings):
    member = ClientFactory(email="ada@example.com")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client_password_set(client=member, password="S3cret-pass")
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]

    assert client_password_check(identifier="ada@example.com", password="S3cret-pass") == member
    assert Client.objects.get(pk=member.pk).password.startswith("counting_md5$")


def test_an_inactive_identity_type_is_not_an_identifier():
    member = ClientFactory()
    client_password_set(client=member, password="S3cret-pass")
    ClientIdentity.objects.create(client=member, identity_type=IdentityTypeFactory(is_active=False), value="FOB-9")
    assert client_password_check(identifier="fob-9", password="S3cret-pass") is None


def test_a_shared_email_logs_in_whichever_client_the_password_is_for():
    parent, child = ClientFactory(email="family@example.com"), ClientFactory(email="family@example.com")
    client_password_set(client=parent, password="Parent-pass-1")
    client_password_set(client=child, password="Child-pass-2")
    assert client_password_check(identifier="family@example.com", password="Child-pass-2") == child
    assert client_password_check(identifier="family@example.com", password="Parent-pass-1") == parent


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family():
    member = ClientFactory()
    first = member_tokens_issue(client=member)
    second = member_token_refresh(refresh_token=first.refresh)

    assert member_token_authenticate(token=second.access).client == member
    with pytest.raises(TokenRefused):
        member_token_refresh(refresh_token=first.refresh)
    assert member_token_authenticate(token=second.access) is None
    assert member_token_authenticate(token=first.access) is None
    assert MemberToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_an_access_token_is_not_a_refresh_token_and_vice_versa():
    pair = member_tokens_issue(client=ClientFactory())
    with pytest.raises(TokenRefused):
        member_token_refresh(refresh_token=pair.access)
    assert member_token_authenticate(token=pair.refresh) is None


def test_revoke_all_reaches_every_login_of_that_client_only():
    member, other = ClientFactory(), ClientFactory()
    mine = [member_tokens_issue(client=member) for _ in range(3)]
    theirs = member_tokens_issue(client=other)

    assert member_tokens_revoke_all(client=member) == 6

    assert all(member_token_authenticate(token=p.access) is None for p in mine)
    assert member_token_authenticate(token=theirs.access).client == other


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_racing_with_one_token_end_the_login():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a database other threads can see (PostgreSQL)")
    pair = member_tokens_issue(client=ClientFactory())
    start = Barrier(2)

    def refresh(_):
        start.wait()
        try:
            return member_token_refresh(refresh_token=pair.refresh)
        except TokenRefused as refused:
            return refused
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(refresh, range(2)))

    assert sorted(type(r).__name__ for r in results) == ["TokenPair", "TokenRefused"]
    assert MemberToken.objects.filter(revoked_at__isnull=True).count() == 0
