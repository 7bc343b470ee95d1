"""Secrets stay home: a new Base URL host needs the secrets again, no message echoes a
vendor's reply body, and production refuses an http Base URL unless allowed.

The "listener" is a host of an attacker's (a `responses` mock), answering every call
with a body that carries MARKER, and recording what it was sent.
"""

import contextlib
import re
import subprocess
import sys

import pytest
import responses
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_q.conf import Conf

from integrations.errors import VendorError
from integrations.example.sandbox import API_KEY
from integrations.gladstone.client import GladstoneClient
from integrations.glofox.client import GlofoxClient
from integrations.kisi.client import KisiClient
from integrations.models import Integration, SyncRun
from integrations.momence.client import MomenceClient
from integrations.perfectgym.client import PerfectGymClient
from integrations.services import ENDPOINT_CHANGED, HTTP_REFUSED, integration_save
from tests.integrations.conftest import EXAMPLE_URL, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"
LISTENER_HOST = "https://listener.attacker.test/"
LISTENER = LISTENER_HOST + "api/"
MARKER = "MARKER-4f1c9e-internal-answer"


@contextlib.contextmanager
def listener(status: int = 400, body: str = f'{{"error": "{MARKER}", "message": "{MARKER}"}}',
             content_type: str = "application/json"):
    """Answer every call to the listener's host with `status` and `body`; yield the list of
    requests it received (filled in as the block ends)."""
    received = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add(method, re.compile(r"https://listener\.attacker\.test/.*"), body=body, status=status,
                     content_type=content_type)
        try:
            yield received
        finally:
            # responses also lists calls it had no answer for (to other hosts): keep the listener's.
            received.extend(call.request for call in mock.calls if call.request.url.startswith(LISTENER_HOST))


def form_data(**changes) -> dict:
    return {"name": "Example club", "is_active": "on", "base_url": EXAMPLE_URL, "api_key": "",
            "webhook_secret": "", "member_minutes": "5", **changes}


def change(admin_client, integration, **changes):
    return admin_client.post(f"{CHANGELIST}{integration.pk}/change/", form_data(**changes))


def test_a_new_host_without_the_secrets_is_refused_and_nothing_reaches_it(admin_client, integration):
    response = change(admin_client, integration, base_url=LISTENER)
    assert response.status_code == 200
    assert ENDPOINT_CHANGED in response.content.decode()
    integration.refresh_from_db()
    assert integration.settings["base_url"] == EXAMPLE_URL and integration.secrets()["api_key"] == API_KEY
    with listener(status=200, body='{"name": "x"}') as received:
        admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [integration.pk]})
    assert received == []  # Test connection still goes home


def test_some_of_the_secrets_again_is_not_enough(admin_client, integration):
    response = change(admin_client, integration, base_url=LISTENER, api_key="typed-again")
    page = response.content.decode()
    assert response.status_code == 200 and "now points at another host" in page  # on webhook_secret
    assert Integration.objects.get(pk=integration.pk).settings["base_url"] == EXAMPLE_URL


def test_a_new_host_with_every_secret_again_is_saved_and_only_those_are_sent(admin_client, integration):
    assert change(admin_client, integration, base_url=LISTENER, api_key="typed-again-1",
                  webhook_secret="typed-again-2").status_code == 302
    saved = Integration.objects.get(pk=integration.pk)
    assert saved.settings["base_url"] == LISTENER
    assert saved.secrets() == {"api_key": "typed-again-1", "webhook_secret": "typed-again-2"}
    with listener(status=200, body='{"name": "Listener"}') as received:
        admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [saved.pk]})
    assert [request.headers["X-Api-Key"] for request in received] == ["typed-again-1"]


@pytest.mark.parametrize("same_host", [
    "https://example.test/v2/",  # another path
    "https://EXAMPLE.test:443/api/",  # the same origin written differently
])
def test_the_same_host_needs_no_secrets_again(admin_client, integration, same_host):
    assert change(admin_client, integration, base_url=same_host).status_code == 302
    saved = Integration.objects.get(pk=integration.pk)
    assert saved.settings["base_url"] == same_host and saved.secrets()["api_key"] == API_KEY


@pytest.mark.parametrize("other_origin", ["http://example.test/api/", "https://example.test:8443/api/"])
def test_another_scheme_or_port_is_another_host(admin_client, integration, other_origin):
    response = change(admin_client, integration, base_url=other_origin)
    assert response.status_code == 200 and "enter them again to confirm" in response.content.decode()


def test_the_service_refuses_it_too_for_every_other_caller(integration):
    with pytest.raises(ValidationError) as refused:
        integration_save(integration=integration, name=integration.name,
                         settings={**integration.settings, "base_url": LISTENER}, secrets={})
    assert ENDPOINT_CHANGED in str(refused.value)
    assert Integration.objects.get(pk=integration.pk).settings["base_url"] == EXAMPLE_URL


def test_a_kisi_base_url_left_empty_is_its_default_host(kisi_default):
    # Empty means https://api.kisi.io/: writing it out is the same host, no secrets asked.
    saved = integration_save(integration=kisi_default, name="Kisi", secrets={},
                             settings={**kisi_default.settings, "base_url": "https://api.kisi.io/"})
    assert saved.secrets()["api_key"] == "kisi-key-1"
    with pytest.raises(ValidationError):
        integration_save(integration=saved, name="Kisi", secrets={},
                         settings={**saved.settings, "base_url": LISTENER})


@pytest.fixture
def kisi_default(db):
    return integration_save(kind="kisi", name="Kisi", settings={"base_url": "", "reconcile_minutes": 1},
                            secrets={"api_key": "kisi-key-1"})


# no vendor reply body in a message, a page or a sync run ------------------------------------

@pytest.fixture
def listening(integration):
    """The integration re-pointed at the listener the way the rule allows: secrets typed again."""
    return integration_save(integration=integration, name=integration.name,
                            settings={**integration.settings, "base_url": LISTENER},
                            secrets={"api_key": "typed-again", "webhook_secret": WEBHOOK_SECRET})


@pytest.mark.parametrize("status", [400, 401, 404, 422, 500])
def test_no_admin_message_page_or_sync_run_echoes_the_listener(admin_client, listening, status,
                                                               monkeypatch, capsys):
    monkeypatch.setattr(Conf, "SYNC", True)  # Sync now runs in the request
    with listener(status=status) as received:
        tested = admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [listening.pk]},
                                   follow=True).content.decode()
        catalogue = admin_client.get(f"{CHANGELIST}{listening.pk}/catalogue/").content.decode()
        admin_client.post(CHANGELIST, {"action": "sync_now", "_selected_action": [listening.pk]})
        runs = admin_client.get("/admin/integrations/syncrun/").content.decode()
        page = admin_client.get(f"{CHANGELIST}{listening.pk}/change/").content.decode()
        with pytest.raises(CommandError) as tested_on_the_command_line:
            call_command("integration", "test", listening.name)
        with pytest.raises(CommandError):
            call_command("integration", "sync", listening.name)
    assert received  # the listener was asked, and answered with the marker
    assert "connection failed" in tested and f"answered {status}" in tested
    errors = [run.error for run in SyncRun.objects.filter(integration=listening)]
    assert len(errors) == 2 and all(f"answered {status}" in error for error in errors)
    for text in (tested, catalogue, runs, page, *errors, str(tested_on_the_command_line.value),
                 capsys.readouterr().out):
        assert MARKER not in text


def listener_error(call) -> str:
    with listener(status=call.status, body=call.body, content_type=call.content_type):
        with pytest.raises(VendorError) as raised:
            call.make()
    return str(raised.value)


QUICK = {"max_attempts": 1, "sleep": lambda seconds: None}
SOAP_FAULT = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
              f"<soap:Body><soap:Fault><faultcode>soap:{MARKER}</faultcode><faultstring>{MARKER}</faultstring>"
              "</soap:Fault></soap:Body></soap:Envelope>")


class VendorCall:
    def __init__(self, name, make, status=400, body=f'{{"error": "{MARKER}", "message": "{MARKER}"}}',
                 content_type="application/json"):
        self.name, self.make, self.status, self.body, self.content_type = name, make, status, body, content_type

    def __repr__(self):
        return self.name


VENDOR_CALLS = [
    VendorCall("kisi 422", lambda: KisiClient(api_key="k", base_url=LISTENER, **QUICK).places_count(),
               status=422, body=f'{{"code": "{MARKER}", "error": "{MARKER}"}}'),
    VendorCall("kisi 401", lambda: KisiClient(api_key="k", base_url=LISTENER, **QUICK).places_count(),
               status=401, body=f'{{"code": "{MARKER}", "error": "{MARKER}"}}'),
    VendorCall("perfect gym 499", lambda: PerfectGymClient(base_url=LISTENER, client_id="c", client_secret="s",
                                                           **QUICK).rows("Clubs"),
               status=499, body=f'{{"errors": [{{"code": "MARKER", "message": "{MARKER}"}}]}}'),
    VendorCall("gladstone fault", lambda: GladstoneClient(base_url=LISTENER, app_name="a", username="u",
                                                          password="p", **QUICK).subscription_types(group_ids=["X"]),
               status=500, body=SOAP_FAULT, content_type="text/xml"),
    VendorCall("gladstone fault in a 200", lambda: GladstoneClient(
        base_url=LISTENER, app_name="a", username="u", password="p", **QUICK).subscription_types(group_ids=["X"]),
               status=200, body=SOAP_FAULT, content_type="text/xml"),
    VendorCall("glofox success false", lambda: GlofoxClient(api_key="k", api_token="t", base_url=LISTENER,
                                                            **QUICK).memberships(branch="b"),
               status=200, body=f'{{"success": false, "message": "{MARKER}", "message_code": "{MARKER}"}}'),
    VendorCall("momence 400", lambda: MomenceClient(base_url=LISTENER, client_id="c", client_secret="s",
                                                    username="u", password="p", **QUICK).ping()),
    VendorCall("any vendor, plain text", lambda: KisiClient(api_key="k", base_url=LISTENER, **QUICK).places_count(),
               status=409, body=MARKER, content_type="text/plain"),
]


@pytest.mark.parametrize("call", VENDOR_CALLS, ids=repr)
def test_no_vendor_error_carries_the_reply_body(call):
    message = listener_error(call)
    assert message and MARKER not in message and "MARKER" not in message


def test_the_body_goes_only_to_a_bounded_redacted_debug_line(caplog):
    caplog.set_level("DEBUG", logger="gatehouse.vendor")
    body = f"{MARKER} key=secret-key-77 " + "x" * 5000
    with listener(status=400, body=body, content_type="text/plain"):
        with pytest.raises(VendorError):
            KisiClient(api_key="secret-key-77", base_url=LISTENER, **QUICK).places_count()
    lines = [r for r in caplog.records if MARKER in r.getMessage()]
    assert [r.levelname for r in lines] == ["DEBUG"]
    assert "secret-key-77" not in caplog.text and len(lines[0].getMessage()) < 400


# http in production --------------------------------------------------------------------------

HTTP_URL = "http://127.0.0.1:8123/api/"


def add(admin_client, base_url):
    return admin_client.post(CHANGELIST + "add/?kind=example", {
        "name": "Club API", "is_active": "on", "base_url": base_url, "api_key": API_KEY,
        "webhook_secret": "", "member_minutes": "5"})


def test_without_the_http_allowance_an_http_base_url_is_refused(admin_client, settings):
    settings.INTEGRATION_ALLOW_HTTP = False
    response = add(admin_client, HTTP_URL)
    assert response.status_code == 200 and "Use an https:// address" in response.content.decode()
    assert not Integration.objects.exists()
    with pytest.raises(CommandError, match="https"):
        call_command("integration", "add", "example", "Scripted", "--set", f"base_url={HTTP_URL}",
                     "--set", "api_key=x", "--set", "member_minutes=3")
    assert add(admin_client, EXAMPLE_URL).status_code == 302  # https is fine
    assert HTTP_REFUSED.startswith("Use an https:// address")


def test_with_the_http_allowance_the_sandboxes_on_loopback_work(admin_client, settings):
    settings.INTEGRATION_ALLOW_HTTP = True
    assert add(admin_client, HTTP_URL).status_code == 302
    assert Integration.objects.get().settings["base_url"] == HTTP_URL


@pytest.mark.parametrize(("module", "environment", "allowed"), [
    ("config.settings", {}, True),
    ("config.production", {}, False),
    ("config.production", {"INTEGRATION_ALLOW_HTTP": "true"}, True),
])
def test_http_is_allowed_in_development_and_refused_in_production_by_default(module, environment, allowed):
    code = "import django; django.setup(); from django.conf import settings; print(settings.INTEGRATION_ALLOW_HTTP)"
    env = {"DJANGO_SETTINGS_MODULE": module, "SECRET_KEY": "x" * 50, "PATH": "/usr/bin:/bin",
           "FIELD_ENCRYPTION_KEYS": "Z2F0ZWhvdXNlLXByb2R1Y3Rpb24tdGVzdC1rZXktMDA=", **environment}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: S603 - our code
                          text=True, check=True, cwd=django_settings.BASE_DIR)
    assert done.stdout.strip() == str(allowed)
