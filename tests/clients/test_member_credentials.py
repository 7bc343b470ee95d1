"""Gatehouse's own member credentials and app tokens, at the service level."""

import re

import pytest
from cryptography.fernet import InvalidToken
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.credentials import client_password_check, client_password_set, clients_by_identifier
from clients.models import Client, ClientIdentity, MemberToken
from clients.tokens import (
    TokenRefused,
    _sealer,
    member_token_authenticate,
    member_token_refresh,
    member_tokens_issue,
    member_tokens_revoke_all,
    token_digest,
)
from tests.api.helpers import Clock
from tests.factories import ClientFactory, IdentityTypeFactory

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """Counts password hashes (each check or make is one encode)."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr("django.utils.timezone.now", fake)
    return fake


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
    for _ in range(3):
        client_password_set(client=ClientFactory(email="family@example.com"), password="S3cret-pass")
    cases = [("ada@example.com", "S3cret-pass"), ("ada@example.com", "wrong"), ("nobody@example.com", "x"),
             ("bob@example.com", "x"), ("", "x"), ("ada@example.com", ""), ("family@example.com", "S3cret-pass"),
             ("family@example.com", "wrong")]
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


def test_an_identity_value_is_an_identifier_whatever_its_case():
    member = ClientFactory(email="ada@example.com", alt_id="M-7")
    client_password_set(client=member, password="S3cret-pass")
    ClientIdentity.objects.create(client=member, identity_type=IdentityTypeFactory(), value="FOB-9")
    for identifier in ["fob-9", " FOB-9 ", "ADA@example.com", "m-7"]:
        assert client_password_check(identifier=identifier, password="S3cret-pass") == member


def test_the_login_look_up_reads_indexes_not_every_client_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the plan of PostgreSQL's functional indexes")
    kind = IdentityTypeFactory()
    # A club of 5,000 members, one in a hundred with an app password, with statistics.
    Client.objects.bulk_create(
        Client(first_name="M", email=f"m{n}@example.com", alt_id=f"M-{n}", password="x" * (n % 100 == 0))
        for n in range(5000))
    ClientIdentity.objects.bulk_create(ClientIdentity(client=c, identity_type=kind, value=f"FOB-{c.alt_id}")
                                       for c in Client.objects.all())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client, clients_clientidentity, clients_identitytype")
    with CaptureQueriesContext(connection) as queries:
        assert [c.alt_id for c in clients_by_identifier(identifier="M1200@example.com")] == ["M-1200"]
    (login,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + login["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert not re.search(r"Seq Scan on clients_client(identity)?\b", plan), plan  # identity types: a few rows
    for index in ("client_login_email", "client_login_alt_id", "identity_login_value", "clients_client_pkey"):
        assert index in plan, plan


def test_an_identifier_several_clients_share_is_not_a_gatehouse_login():
    parent = ClientFactory(email="family@example.com", alt_id="P1")
    child = ClientFactory(email="family@example.com", alt_id="C1")
    client_password_set(client=parent, password="Parent-pass-1")
    client_password_set(client=child, password="Child-pass-2")
    ClientFactory(email="solo@example.com", alt_id="S1")  # shares nothing: no app password

    assert client_password_check(identifier="family@example.com", password="Child-pass-2") is None
    assert client_password_check(identifier="family@example.com", password="Parent-pass-1") is None
    assert client_password_check(identifier="c1", password="Child-pass-2") == child
    assert client_password_check(identifier="P1", password="Parent-pass-1") == parent
    client_password_set(client=child, password=None)  # a client without a password shares nothing
    assert client_password_check(identifier="family@example.com", password="Parent-pass-1") == parent


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family(clock):
    member = ClientFactory()
    first = member_tokens_issue(client=member)
    second = member_token_refresh(refresh_token=first.refresh)

    assert member_token_authenticate(token=second.access).client == member
    clock.advance(seconds=10, microseconds=1)  # just past the grace
    with pytest.raises(TokenRefused):
        member_token_refresh(refresh_token=first.refresh)
    assert member_token_authenticate(token=second.access) is None
    assert member_token_authenticate(token=first.access) is None
    assert MemberToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_within_the_grace_a_refresh_token_gets_its_successor_again(clock, settings):
    settings.MEMBER_REFRESH_GRACE_SECONDS = 5
    first = member_tokens_issue(client=ClientFactory())
    second = member_token_refresh(refresh_token=first.refresh)
    clock.advance(seconds=5)

    again = member_token_refresh(refresh_token=first.refresh)

    assert (again.access, again.refresh, again.access_expires) == (second.access, second.refresh,
                                                                    second.access_expires)
    assert MemberToken.objects.count() == 4  # nothing new was issued
    third = member_token_refresh(refresh_token=second.refresh)
    clock.advance(seconds=6)
    member_token_refresh(refresh_token=third.refresh)  # rotating again wipes successors past their grace
    assert list(MemberToken.objects.exclude(successor="").values_list("digest", flat=True)) == [
        token_digest(third.refresh)]


def test_a_successor_is_sealed_with_the_token_it_replaced(clock):
    first = member_tokens_issue(client=ClientFactory())
    second = member_token_refresh(refresh_token=first.refresh)
    row = MemberToken.objects.get(digest=token_digest(first.refresh))

    assert row.successor and second.refresh not in row.successor and second.access not in row.successor
    for held in (row.digest, token_digest(second.refresh), row.successor):  # what the database holds
        with pytest.raises(InvalidToken):
            _sealer(held).decrypt(row.successor.encode())
    assert member_token_refresh(refresh_token=first.refresh).refresh == second.refresh  # the raw token opens it


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
def test_two_refreshes_racing_with_one_token_get_the_same_pair():
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

    assert [type(r).__name__ for r in results] == ["TokenPair", "TokenPair"]
    assert results[0].access == results[1].access and results[0].refresh == results[1].refresh
    assert member_token_authenticate(token=results[0].access) is not None
    assert MemberToken.objects.count() == 4 and MemberToken.objects.filter(revoked_at__isnull=True).count() == 3
