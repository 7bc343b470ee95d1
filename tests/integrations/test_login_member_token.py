"""POST /api/v1/auth/member-token with the example vendor's partner-app tokens."""

import logging

import pytest
from django.core.cache import cache

from clients.models import Client, MemberToken
from integrations.services import integration_save
from tests.api.helpers import bearer

URL = "/api/v1/auth/member-token"
REFUSED = {"detail": "Invalid or expired member token."}


@pytest.fixture(autouse=True)
def fresh_throttles(db):
    cache.clear()
    yield
    cache.clear()


def token_login(api, token, integration=None):
    body = {"token": token, **({"integration": str(integration)} if integration is not None else {})}
    return api.post(URL, body, content_type="application/json", REMOTE_ADDR="203.0.113.9")


def test_a_good_token_logs_the_member_in_once(client, sandbox, integration, caplog):
    caplog.set_level(logging.DEBUG)
    token = sandbox.member_token_issue("m3")

    answer = token_login(client, token)

    assert answer.status_code == 200
    member = Client.objects.get(source=integration.source, external_id="m3")
    assert answer.json()["client"]["id"] == member.pk
    assert client.get("/api/v1/me", **bearer(answer.json()["access"])).status_code == 200
    replay = token_login(client, token)
    assert (replay.status_code, replay.json()) == (401, REFUSED)
    assert "reason=replayed" in caplog.text and token not in caplog.text


@pytest.mark.parametrize("case", ["tampered", "expired", "unknown member system answer", "vendor down"])
def test_bad_tokens_are_refused_alike(client, sandbox, integration, case):
    token = sandbox.member_token_issue("m1", ttl=-1 if case == "expired" else 300)
    if case == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif case == "unknown member system answer":
        token = "mt_made-up"
    elif case == "vendor down":
        sandbox.inject(status=502, times=5)

    answer = token_login(client, token)

    assert (answer.status_code, answer.json()) == (401, REFUSED)
    assert MemberToken.objects.count() == 0 and not Client.objects.filter(external_id="m1").exists()


def test_the_integration_may_be_named_by_id_or_kind(client, sandbox, integration):
    assert token_login(client, sandbox.member_token_issue("m1"), integration.pk).status_code == 200
    assert token_login(client, sandbox.member_token_issue("m2"), "example").status_code == 200
    unknown = token_login(client, sandbox.member_token_issue("m3"), "gladstone-nope")
    assert unknown.status_code == 400 and "integration" in unknown.json()


def test_with_two_token_integrations_the_app_must_name_one(client, sandbox, integration):
    from integrations.example.sandbox import API_KEY
    from tests.integrations.conftest import EXAMPLE_URL

    other = integration_save(kind="example", name="Twin", settings={"base_url": EXAMPLE_URL, "member_minutes": 5},
                             secrets={"api_key": API_KEY})

    assert token_login(client, sandbox.member_token_issue("m1")).status_code == 400
    named = token_login(client, sandbox.member_token_issue("m1"), other.pk)
    assert named.status_code == 200
    assert Client.objects.get(pk=named.json()["client"]["id"]).source == other.source


def test_no_token_integration_is_a_400(client, db):
    assert token_login(client, "anything").status_code == 400
