"""Momence OAuth: password grant, tokens kept encrypted and reused, refresh before expiry,
refresh on a 401, password grant again when the refresh token is dead; secrets never shown."""

import logging
import re
from datetime import timedelta

import pytest

from integrations.models import SyncRun
from integrations.momence.models import MomenceToken
from integrations.momence.sandbox import PASSWORD
from integrations.services import integration_save
from tests.integrations.momence.conftest import calls, grants

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(sandbox):
    for n in range(3):
        sandbox.member_put(1000 + n, firstName=f"Ana{n}", lastName="Lee", email=f"ana{n}@studio.test")
    return sandbox


def test_first_call_logs_in_and_later_runs_reuse_the_stored_token(members, run):
    assert run("members").status == SyncRun.Status.SUCCEEDED
    assert run("members").status == SyncRun.Status.SUCCEEDED
    assert run("tags").status == SyncRun.Status.SUCCEEDED
    assert grants(members) == ["password"]  # one login for three runs (each a new client)
    bearer = {c.header("Authorization") for c in members.calls if c.path != "auth/token"}
    assert len(bearer) == 1 and bearer.pop().startswith("Bearer mat-1-")


def test_stored_tokens_are_encrypted(members, run):
    run("members")
    stored = MomenceToken.objects.get()
    issued = next(iter(members.access_tokens))
    assert issued not in stored.token and "mrt-" not in stored.token
    assert stored.access_expires_at > stored.updated_at


def test_expired_access_token_is_refreshed_once_and_the_call_retried(members, run):
    run("members")
    members.expire_access_tokens()  # Momence now answers 401 to the stored token
    again = run("members")
    assert again.status == SyncRun.Status.SUCCEEDED and again.unchanged == 3
    assert grants(members) == ["password", "refresh_token"]
    refused, retried = calls(members, "GET", "host/members")[-2:]
    assert refused.header("Authorization") != retried.header("Authorization")


def test_token_about_to_expire_is_refreshed_before_the_call(members, run):
    members.access_ttl = timedelta(minutes=2)  # inside the client's 5-minute margin
    run("members")
    before = len(calls(members, "GET", "host/members"))
    run("members")
    assert grants(members) == ["password", "refresh_token"]
    assert len(calls(members, "GET", "host/members")) == before + 1  # no refused call first


def test_expired_refresh_token_means_logging_in_again(members, run):
    run("members")
    members.advance(days=15)  # past both tokens' lives on Momence's clock
    again = run("members")
    assert again.status == SyncRun.Status.SUCCEEDED
    assert grants(members) == ["password", "refresh_token", "password"]  # the refresh was refused


def test_refresh_token_known_dead_is_not_even_tried(members, run, monkeypatch):
    from integrations.momence.connector import MomenceConnector

    run("members")
    later = MomenceToken.objects.get().refresh_expires_at + timedelta(seconds=1)
    monkeypatch.setattr(MomenceConnector, "client_options", {"clock": lambda: later})
    run("members")
    assert grants(members) == ["password", "password"]


def test_wrong_password_fails_the_run_without_showing_any_secret(members, run, integration, caplog):
    integration_save(integration=integration, name=integration.name, settings=integration.settings,
                     secrets={"password": "wrong-Pass-99731"})
    caplog.set_level(logging.INFO)
    failed = run("members")
    assert failed.status == SyncRun.Status.FAILED and "AuthError" in failed.error
    for secret in ("wrong-Pass-99731", PASSWORD):
        assert secret not in failed.error and secret not in caplog.text


def test_tokens_never_reach_the_logs(members, run, caplog):
    caplog.set_level(logging.DEBUG, logger="gatehouse.vendor")
    run("members")
    members.expire_access_tokens()
    run("members")
    assert "host/members" in caplog.text
    for token in [*members.access_tokens, *members.refresh_tokens]:
        assert token not in caplog.text


def test_new_staff_login_drops_the_stored_tokens(members, run, integration):
    run("members")
    integration_save(integration=integration, name=integration.name, settings=integration.settings,
                     secrets={"username": "owner@studio.test"})
    failed = run("members")
    assert failed.status == SyncRun.Status.FAILED  # the new login is checked, not the old token reused
    assert grants(members) == ["password", "password"]


def test_token_endpoint_hiccup_is_retried(members, run):
    members.inject(status=503, path="auth/token")
    assert run("members").status == SyncRun.Status.SUCCEEDED
    assert grants(members) == ["password", "password"]  # the first answered 503


def test_an_answer_that_is_not_json_fails_the_run_cleanly(members, run):
    from integrations.sandbox import SandboxResponse

    maintenance = SandboxResponse(200, "<html>maintenance</html>", content_type="text/html")
    members.routes.insert(0, ("GET", re.compile(r"host/members"), lambda request: maintenance))
    failed = run("members")
    assert failed.status == SyncRun.Status.FAILED and "not JSON" in failed.error
