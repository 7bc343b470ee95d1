"""The SOAP client on the wire: envelopes, AuthHeader, faults mapped to the errors, retries."""

import pytest

from clients.models import Client
from integrations.errors import AuthError, PermanentError, TransientError
from integrations.gladstone import contract
from integrations.gladstone.client import GladstoneClient, envelope, parse_xml
from integrations.gladstone.sandbox import APP_NAME, PASSWORD, USERNAME, GladstoneSandbox
from integrations.models import SyncRun
from integrations.sandbox.transports import served
from integrations.services import integration_save
from integrations.sync import sync_run
from tests.integrations.gladstone.conftest import GLADSTONE_URL, SETTINGS, TOKEN_KEY, add_member, sync

pytestmark = pytest.mark.django_db


def client(password=PASSWORD, **options) -> GladstoneClient:
    return GladstoneClient(
        base_url=GLADSTONE_URL,
        app_name=APP_NAME,
        username=USERNAME,
        password=password,
        sleep=lambda s: None,
        backoff=0.01,
        **options,
    )


def test_calls_carry_the_soap_action_content_type_and_auth_header(gladstone):
    client().subscription_types(group_ids=["FISIK"])
    call = gladstone.calls[0]
    assert call.path == "General.asmx"
    assert call.header("SOAPAction") == '"http://www.gladstonemrm.com/memberwebservice/GetSubscriptionTypes"'
    assert call.header("Content-Type") == "text/xml; charset=utf-8"
    root = parse_xml(call.body)
    ns = {"s": contract.SOAP_ENV, "g": contract.NAMESPACE}
    assert root.findtext("s:Header/g:AuthHeader/g:AppName", namespaces=ns) == APP_NAME
    assert root.findtext("s:Header/g:AuthHeader/g:Username", namespaces=ns) == USERNAME


def test_values_are_escaped_in_the_envelope(gladstone):
    body = envelope(
        contract.CHECK_MEMBER_LOGIN,
        {"Username": "a&b"},
        {"LoginId": "LoginID", "idValue": "<x>", "validationValue": "p&<>\"'"},
    )
    root = parse_xml(body)
    ns = {"g": contract.NAMESPACE, "s": contract.SOAP_ENV}
    assert root.findtext("s:Body/g:CheckMemberLogin/g:validationValue", namespaces=ns) == "p&<>\"'"
    assert root.findtext("s:Header/g:AuthHeader/g:Username", namespaces=ns) == "a&b"
    member_id = add_member(gladstone, password="p&<>\"'")
    assert (
        client().check_member_login(
            login_id="MemberID",
            id_value=str(member_id),
            validation_type="Password",
            validation_value="p&<>\"'",
        )
        == member_id
    )


def test_wrong_credentials_are_an_auth_error_without_the_password(gladstone):
    with pytest.raises(AuthError) as error:
        client(password="wrong-secret-998").subscription_types(group_ids=["FISIK"])
    assert "the vendor refused the credentials" in str(error.value)
    assert "Authentication failed" not in str(error.value)  # the vendor's words stay out
    assert "wrong-secret-998" not in str(error.value)
    assert len(gladstone.calls) == 1  # not retried


def test_a_client_fault_is_permanent_and_a_server_fault_transient(gladstone):
    with pytest.raises(PermanentError, match="fault Client: the vendor refused the request$"):
        client().check_member_login(
            login_id="MemberID", id_value="1", validation_type="Magic", validation_value="x"
        )
    gladstone.inject(status=500)
    with pytest.raises(TransientError, match="fault Server: the vendor failed to answer$"):
        client().subscription_types(group_ids=["FISIK"])


def test_5xx_and_429_are_retried_for_reads(gladstone):
    gladstone.inject(status=503, times=2)
    gladstone.inject(status=429, retry_after=0)
    assert len(client().subscription_types(group_ids=["FISIK"])) == 5
    assert len(gladstone.calls) == 4


def test_a_fault_inside_a_200_is_still_a_fault(gladstone, monkeypatch):
    monkeypatch.setattr(
        GladstoneSandbox,
        "op_GetSubscriptionTypes",
        lambda self, p: (_ for _ in ()).throw(ValueError("bad group")),
    )
    with pytest.raises(PermanentError, match="GetSubscriptionTypes fault Client") as error:
        client().subscription_types(group_ids=["FISIK"])
    assert "bad group" not in str(error.value)


def test_an_unreadable_answer_is_transient(gladstone, monkeypatch):
    def broken(self, params):
        return "<unclosed>"

    monkeypatch.setattr(GladstoneSandbox, "op_GetSubscriptionTypes", broken)
    with pytest.raises(TransientError, match="unreadable XML"):
        client().subscription_types(group_ids=["FISIK"])


def test_an_answer_with_a_dtd_is_refused():
    with pytest.raises(ValueError, match="DTD"):
        parse_xml(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')


def test_a_sync_that_meets_a_fault_fails_visibly_and_keeps_the_secret_out(gladstone, integration):
    add_member(gladstone)
    gladstone.inject(status=500, path="Members")
    run = sync_run(integration=integration, sync_name="members")
    assert run.status == SyncRun.Status.FAILED and "GetMemberChanges fault Server" in run.error
    assert PASSWORD not in run.error
    assert sync(integration).created == 1


def test_test_connection_reports_the_subscription_types(gladstone, integration):
    from integrations.connectors import connector_for

    assert connector_for(integration).test_connection() == "5 subscription type(s) in FISIK"


def test_a_sync_over_real_http(club):
    """The sandbox served by its threaded WSGI server, the sync over real sockets."""
    fake = GladstoneSandbox(members=40, seed=7)
    with served(fake) as root:
        url = f"{root}MemberWebService/"
        integration = integration_save(
            kind="gladstone",
            name="Over HTTP",
            settings={**SETTINGS, "base_url": url},
            secrets={"password": PASSWORD, "member_token_key": TOKEN_KEY},
        )
        run = sync(integration)
    alive = [m for m in fake.members.values() if m["status_id"] in ("LIVE", "FROZEN") and not m["is_deleted"]]
    assert run.created == len(alive) == Client.objects.count()
    assert fake.queued("Gatehouse") == []


def test_proxy_settings_from_the_environment_are_still_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert client().http.session.proxies.get("https") == "http://proxy.example:3128"
    monkeypatch.setenv("NO_PROXY", "gladstone.test")
    assert "https" not in client().http.session.proxies
