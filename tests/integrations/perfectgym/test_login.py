"""The login fallback: the connector's credential check against MemberAuth."""

import json

import pytest

from integrations.connectors import connector_for
from integrations.errors import TransientError
from integrations.perfectgym.sandbox import CLIENT_SECRET, PASSWORD

pytestmark = pytest.mark.django_db


def check(integration, identifier, password):
    return connector_for(integration).credential_check(identifier, password)


def auth_calls(sandbox):
    return [c for c in sandbox.calls if c.path.startswith("MemberAuth/")]


def test_success_by_email_returns_the_member_fetched_by_id(sandbox, integration, locations, customer_number):
    member = sandbox.sets["Members"].rows[13]
    result = check(integration, "  Member13@PG.example ", PASSWORD)
    assert result.ok is True
    record = result.record
    assert (record.external_id, record.first_name, record.last_name, record.email) == (
        "13", member["firstName"], member["lastName"], member["email"])
    assert record.home_location_id == locations[member["homeClubId"]].pk
    assert record.identities == {customer_number.pk: member["number"]}
    (call,) = auth_calls(sandbox)
    assert call.path == "MemberAuth/VerifyMemberCredentials"
    assert json.loads(call.body) == {"email": "Member13@PG.example", "password": PASSWORD}
    assert sandbox.calls[-1].path == "odata/Members/13" and sandbox.calls[-1].method == "GET"


def test_success_by_member_number_uses_verify_credentials(sandbox, integration):
    number = sandbox.sets["Members"].rows[21]["number"]
    result = check(integration, number, PASSWORD)
    assert result.ok and result.record.external_id == "21"
    assert [c.path for c in auth_calls(sandbox)] == ["MemberAuth/VerifyCredentials"]
    assert json.loads(auth_calls(sandbox)[0].body)["login"] == number


@pytest.mark.parametrize(("identifier", "password", "reason"), [
    ("nobody@pg.example", PASSWORD, "NoAccount"),
    ("member20@pg.example", PASSWORD, "NoPassword"),  # every tenth seeded member has no password
    ("member13@pg.example", "wrong-password", "InvalidUsernameOrPassword"),
])
def test_refusals_say_why_in_the_reason_only(sandbox, integration, identifier, password, reason):
    result = check(integration, identifier, password)
    assert (result.ok, result.record, result.reason) == (False, None, reason)
    assert not [c for c in sandbox.calls if c.path.startswith("odata/")]  # nothing fetched


def test_a_member_perfect_gym_deleted_after_success_is_refused(sandbox, integration, monkeypatch):
    def deleted_meanwhile(request):
        answer = type(sandbox).verify_member_credentials(sandbox, request)
        sandbox.member_delete(13)
        return answer

    monkeypatch.setattr(sandbox, "routes", [
        (m, p, deleted_meanwhile if h.__name__ == "verify_member_credentials" else h)
        for m, p, h in sandbox.routes])
    result = check(integration, "member13@pg.example", PASSWORD)
    assert result.ok is False and "no such member" in result.reason


def test_a_vendor_timeout_raises_transient_error_at_once(sandbox, integration):
    sandbox.inject(delay=30, path="MemberAuth")
    with pytest.raises(TransientError) as raised:
        check(integration, "member13@pg.example", PASSWORD)
    assert len(auth_calls(sandbox)) == 1  # a login is never retried
    assert CLIENT_SECRET not in str(raised.value) and PASSWORD not in str(raised.value)


def test_a_vendor_outage_raises_transient_error(sandbox, integration):
    sandbox.inject(status=503, path="MemberAuth")
    with pytest.raises(TransientError):
        check(integration, "member13@pg.example", PASSWORD)


def test_a_499_answer_is_a_refusal_with_its_code(sandbox, integration):
    sandbox.inject(status=499, path="MemberAuth")
    result = check(integration, "member13@pg.example", PASSWORD)
    assert result.ok is False and "Perfect Gym refused the check" in result.reason


def test_a_member_app_login_with_perfect_gym_credentials_creates_the_client(sandbox, integration, locations):
    from integrations.logins import member_login

    outcome = member_login(identifier="member13@pg.example", password=PASSWORD, ip="192.0.2.1")
    assert outcome.ok and outcome.via == integration.source
    assert (outcome.client.external_id, outcome.client.home_location) == (
        "13", locations[sandbox.sets["Members"].rows[13]["homeClubId"]])
    refused = member_login(identifier="member13@pg.example", password="wrong", ip="192.0.2.1")
    assert not refused.ok
