"""Both app logins: Gladstone credentials (CheckMemberLogin) and the encrypted member-id token."""

import time

import pytest

from clients.models import Client
from integrations.connectors import connector_for
from integrations.gladstone.models import UsedMemberToken
from integrations.gladstone.tokens import MAX_AGE_SECONDS, member_token_create, member_token_key_generate
from integrations.services import integration_save
from tests.integrations.gladstone.conftest import TOKEN_KEY, add_member, make_integration, sync

pytestmark = pytest.mark.django_db


def check(integration, identifier, password):
    return connector_for(integration).credential_check(identifier, password)


def token_check(integration, token):
    return connector_for(integration).member_token_check(token)


def login_calls(gladstone) -> list[str]:
    return [c.body.decode() for c in gladstone.calls if b"CheckMemberLogin" in c.body]


# username and password ------------------------------------------------------------
@pytest.mark.parametrize(
    ("identifier", "login_id"),
    [
        ("ada@example.com", "HomeEmailAddress"),
        ("{member}", "MemberID"),
        ("m{member}", "LoginID"),
    ],
)
def test_credentials_are_checked_with_the_right_login_id(gladstone, integration, identifier, login_id):
    member_id = add_member(gladstone, password="Correct-horse-1")
    result = check(integration, identifier.format(member=member_id), "Correct-horse-1")
    assert (
        result.ok and result.record.external_id == str(member_id) and result.record.alt_id == str(member_id)
    )
    assert result.record.email == "ada@example.com" and result.record.is_active
    body = login_calls(gladstone)[0]
    assert (
        f"<LoginId>{login_id}</LoginId>" in body
        and "<loginValidationType>Password</loginValidationType>" in body
    )


def test_wrong_password_is_refused(gladstone, integration):
    add_member(gladstone, password="Correct-horse-1")
    result = check(integration, "ada@example.com", "wrong")
    assert not result.ok and result.record is None
    assert "RetrieveMember" not in gladstone.operations()


def test_pin_validation_compares_the_pin(gladstone, club):
    integration = make_integration(validation_type="PIN")
    member_id = add_member(gladstone, pin="4321", password="Correct-horse-1")
    assert check(integration, str(member_id), "4321").ok
    assert not check(integration, str(member_id), "Correct-horse-1").ok  # a password is not the PIN


def test_wrong_validation_type_is_refused(gladstone, integration):
    gladstone.strong_passwords = True  # the instance uses UseStrongPassword
    add_member(gladstone, password="Correct-horse-1")
    assert not check(integration, "ada@example.com", "Correct-horse-1").ok  # configured: Password


def test_secure_password_is_checked_against_the_hash(gladstone, club):
    gladstone.strong_passwords = True
    integration = make_integration(validation_type="SecurePassword")
    member_id = add_member(gladstone, password="Correct-horse-1")
    result = check(integration, "ada@example.com", "Correct-horse-1")
    assert result.ok and result.record.external_id == str(member_id)
    assert not check(integration, "ada@example.com", "correct-horse-1").ok
    assert "pw-" not in gladstone.members[member_id]["password_hash"]


def test_deleted_or_never_created_members_are_refused(gladstone, integration):
    deleted = add_member(gladstone, email="gone@example.com", password="pw-gone-1")
    gladstone.member_put(deleted, status_id="LAPSED")
    assert not check(integration, "gone@example.com", "pw-gone-1").ok  # inactive and not a client
    sync(integration)  # not created either
    gladstone.member_delete(deleted)
    assert not check(integration, str(deleted), "pw-gone-1").ok


def test_an_existing_inactive_client_is_vouched_for(gladstone, integration):
    member_id = add_member(gladstone, password="Correct-horse-1")
    sync(integration)
    gladstone.member_put(member_id, status_id="LAPSED")
    result = check(integration, str(member_id), "Correct-horse-1")
    assert result.ok and result.record.is_active is False  # the login service decides


def test_inactive_integration_refuses_logins_without_calling_gladstone(gladstone, club):
    integration = make_integration(is_active=False)
    add_member(gladstone, password="Correct-horse-1")
    assert not check(integration, "ada@example.com", "Correct-horse-1").ok
    assert not token_check(integration, member_token_create(key=TOKEN_KEY, member_id=1)).ok
    assert gladstone.calls == []


def test_the_password_never_reaches_the_log(gladstone, integration, caplog):
    add_member(gladstone, password="Correct-horse-1")
    caplog.set_level("DEBUG")
    check(integration, "ada@example.com", "Correct-horse-1")
    assert "Correct-horse-1" not in caplog.text and "gladstone-pass-5512" not in caplog.text


# member-id tokens -----------------------------------------------------------------
@pytest.fixture
def client_member(gladstone, integration):
    member_id = add_member(gladstone, forename="Tok", surname="En")
    sync(integration)
    return member_id


def test_a_fresh_token_logs_in_the_client_with_that_alt_id(integration, client_member):
    result = token_check(integration, member_token_create(key=TOKEN_KEY, member_id=client_member))
    assert result.ok
    client = Client.objects.get(alt_id=str(client_member))
    assert result.record.external_id == client.external_id and result.record.first_name == "Tok"


def test_a_replayed_token_is_refused(integration, client_member):
    token = member_token_create(key=TOKEN_KEY, member_id=client_member)
    assert token_check(integration, token).ok
    again = token_check(integration, token)
    assert not again.ok and "already used" in again.reason


def test_an_expired_token_is_refused(integration, client_member):
    old = member_token_create(
        key=TOKEN_KEY, member_id=client_member, issued_at=time.time() - MAX_AGE_SECONDS - 1
    )
    result = token_check(integration, old)
    assert not result.ok and "expired" in result.reason


def test_a_token_from_the_future_is_refused(integration, client_member):
    future = member_token_create(key=TOKEN_KEY, member_id=client_member, issued_at=time.time() + 600)
    assert not token_check(integration, future).ok


def test_a_tampered_token_is_refused(integration, client_member):
    token = member_token_create(key=TOKEN_KEY, member_id=client_member)
    index = len(token) // 2
    tampered = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    result = token_check(integration, tampered)
    assert not result.ok and "tampered" in result.reason


def test_a_token_made_with_another_key_is_refused(integration, client_member):
    result = token_check(
        integration, member_token_create(key=member_token_key_generate(), member_id=client_member)
    )
    assert not result.ok and "another key" in result.reason


@pytest.mark.parametrize("token", ["", "not a token", "AQ", "x" * 5000])
def test_garbage_is_refused(integration, token):
    assert not token_check(integration, token).ok


def test_a_token_for_an_unknown_member_is_refused(integration, client_member):
    assert not token_check(integration, member_token_create(key=TOKEN_KEY, member_id=999999)).ok


def test_without_a_key_tokens_are_refused(gladstone, integration, client_member):
    integration = integration_save(
        integration=integration, name=integration.name, settings=integration.settings, secrets={}
    )
    integration.set_secrets({"password": "x"})
    integration.save()
    result = token_check(integration, member_token_create(key=TOKEN_KEY, member_id=client_member))
    assert not result.ok and "no member token key" in result.reason


def test_used_tokens_are_forgotten_once_expired(integration, client_member):
    old = member_token_create(
        key=TOKEN_KEY, member_id=client_member, issued_at=time.time() - MAX_AGE_SECONDS + 2
    )
    assert token_check(integration, old).ok
    UsedMemberToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    token_check(integration, member_token_create(key=TOKEN_KEY, member_id=client_member))
    assert UsedMemberToken.objects.count() == 1
