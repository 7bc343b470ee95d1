"""`manage.py integration add|list|test|sync|audit` for scripted setup and runs."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from clients.models import Client, IdentityType, Location
from integrations.example.sandbox import API_KEY
from integrations.management.commands.integration import Command
from integrations.models import Integration, SyncRun
from integrations.perfectgym.sandbox import CLIENT_ID as PG_CLIENT_ID
from integrations.perfectgym.sandbox import CLIENT_SECRET as PG_CLIENT_SECRET
from integrations.perfectgym.sandbox import PerfectGymSandbox
from integrations.sandbox.transports import mounted
from integrations.scheduling import schedule_name
from tests.integrations.conftest import EXAMPLE_URL

pytestmark = pytest.mark.django_db


def test_add_then_list(capsys, monkeypatch):
    monkeypatch.setenv("EXAMPLE_KEY", API_KEY)
    call_command("integration", "add", "example", "Scripted", "--set", f"base_url={EXAMPLE_URL}",
                 "--set", "api_key=@EXAMPLE_KEY", "--set", "member_minutes=3")
    integration = Integration.objects.get(name="Scripted")
    assert integration.secrets()["api_key"] == API_KEY
    call_command("integration", "list")
    out = capsys.readouterr().out
    assert "Scripted" in out and "never run" in out and API_KEY not in out


def test_add_with_invalid_settings_fails_with_the_reason():
    with pytest.raises(CommandError, match="base_url"):
        call_command("integration", "add", "example", "Bad", "--set", "base_url=not a url",
                     "--set", "api_key=x", "--set", "member_minutes=3")


def test_sync_ends_with_a_summary_line(capsys, sandbox, integration):
    call_command("integration", "sync", integration.name)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "members: succeeded; created 5, updated 0, unchanged 0, skipped 0, failed 0"
    assert Client.objects.count() == 5


def test_failed_sync_exits_non_zero(sandbox, integration):
    sandbox.inject(status=500, times=20)
    with pytest.raises(CommandError, match="A sync failed"):
        call_command("integration", "sync", integration.name)


def test_test_reports_connection(capsys, sandbox, integration):
    call_command("integration", "test", integration.name)
    assert "Connection OK: connected to Example Club" in capsys.readouterr().out


def test_unknown_integration_is_an_error():
    with pytest.raises(CommandError, match="No integration named"):
        call_command("integration", "sync", "nope")


# the admin's form behind `add`: its defaults, its checks, records by name ----------------
PG_URL = "https://club.perfectgym.test/Api/v2.2/"


@pytest.fixture
def customer_number(db):
    return IdentityType.objects.create(display_name="Perfect Gym Customer Number", max_per_client=1)


@pytest.fixture
def pg_sandbox():
    fake = PerfectGymSandbox(members=12, seed=3, base_url=PG_URL)
    with mounted((fake, PG_URL)):
        yield fake


def pg_add(*pairs, name="Scripted PG"):
    base = ["--set", f"base_url={PG_URL}", "--set", f"client_id={PG_CLIENT_ID}",
            "--set", "identity_type=perfect gym customer number"]
    call_command("integration", "add", "perfectgym", name, *base, *pairs)
    return Integration.objects.get(name=name)


def test_add_takes_the_admin_defaults_so_the_syncs_are_scheduled(capsys, customer_number, monkeypatch):
    monkeypatch.setenv("PG_SECRET", PG_CLIENT_SECRET)
    integration = pg_add("--set", "client_secret=@PG_SECRET")
    assert integration.settings["sync_members"] is True and integration.settings["sync_swipes"] is True
    assert integration.settings["member_minutes"] == 1 and integration.settings["swipe_minutes"] == 5
    assert integration.settings["identity_type"] == customer_number.pk
    out = capsys.readouterr().out
    assert "next run" in out and "not scheduled" not in out
    assert Schedule.objects.filter(name__startswith=schedule_name(integration.pk, "")).count() == 4


def test_a_sync_switched_off_on_the_command_line_is_off(customer_number):
    integration = pg_add("--set", f"client_secret={PG_CLIENT_SECRET}", "--set", "sync_swipes=no")
    assert integration.settings["sync_swipes"] is False and integration.settings["sync_members"] is True


def test_an_unknown_key_is_refused_naming_the_valid_ones(customer_number):
    with pytest.raises(CommandError, match=r"'swipes' is not a Perfect Gym setting; the settings are: base_url, "
                                           r"client_id, client_secret, identity_type.*sync_swipes"):
        pg_add("--set", "client_secret=x", "--set", "swipes=true")
    assert not Integration.objects.exists()


def test_a_boolean_must_say_true_or_false(customer_number):
    with pytest.raises(CommandError, match="sync_swipes: give true or false, not 'sometimes'"):
        pg_add("--set", "client_secret=x", "--set", "sync_swipes=sometimes")


def test_an_identity_type_is_named_not_numbered(customer_number):
    with pytest.raises(CommandError, match=r"no identity type is named '\d+'.*known: Perfect Gym Customer Number"):
        call_command("integration", "add", "perfectgym", "By id", "--set", f"base_url={PG_URL}",
                     "--set", f"client_id={PG_CLIENT_ID}", "--set", "client_secret=x",
                     "--set", f"identity_type={customer_number.pk}")


@pytest.mark.parametrize("named", ["SPA", "spa road"])
def test_a_location_by_alt_id_or_name(named):
    spa = Location.objects.create(alt_id="SPA", name="Spa Road")
    Location.objects.create(alt_id="UB", name="Uxbridge")
    call_command("integration", "add", "momence", "Momence", "--set", "base_url=https://momence.test/api/",
                 "--set", "client_id=c", "--set", "client_secret=s", "--set", "username=u@club.example",
                 "--set", "password=p", "--set", f"location={named}")
    assert Integration.objects.get(name="Momence").settings["location"] == spa.pk


def test_a_secret_read_from_standard_input_is_stored_and_never_shown(capsys, customer_number, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PG_CLIENT_SECRET}\n"))
    integration = pg_add("--set", "client_secret=-")
    assert integration.secrets()["client_secret"] == PG_CLIENT_SECRET
    captured = capsys.readouterr()
    assert PG_CLIENT_SECRET not in captured.out + captured.err


def test_an_unset_environment_variable_is_named(customer_number, monkeypatch):
    monkeypatch.delenv("PG_SECRET", raising=False)
    with pytest.raises(CommandError, match="client_secret: the environment variable PG_SECRET is not set"):
        pg_add("--set", "client_secret=@PG_SECRET")


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the command as a terminal does: (exit status, stdout, stderr)."""
    # run_from_argv closes every connection as it ends; the test's transaction needs its own.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)

    def run(*argv) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            Command().run_from_argv(["manage.py", "integration", *argv])
        captured = capsys.readouterr()
        return exited.value.code, captured.out, captured.err

    return run


def test_add_kind_help_lists_every_setting_with_its_meaning_and_default(cli):
    status, out, err = cli("add", "perfectgym", "--help")
    assert status == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "Sync swipes. Club visits become door accesses" in lines["sync_swipes"]
    assert "[default true; true or false]" in lines["sync_swipes"]
    assert "[default 1]" in lines["member_minutes"]
    assert "secret: give - to type it unseen" in lines["client_secret"]
    assert "identity type by display name" in lines["identity_type"]


def test_add_kisi_help_tells_how_many_calls_a_push_keeps_in_flight(cli):
    status, out, err = cli("add", "kisi", "--help")
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert status == 0 and "Kisi calls at once. How many calls a push keeps in flight" in lines["in_flight"]
    assert "[default 16]" in lines["in_flight"]


# sync: one message for refused credentials, one line per error, the run's report ----------
def test_refused_credentials_stop_the_remaining_syncs_with_one_message(cli, capsys, pg_sandbox, customer_number):
    Location.objects.create(alt_id="UB", name="Uxbridge", integration_numbers={"perfectgym_club": "1"})
    pg_add("--set", "client_secret=wrong-secret")
    capsys.readouterr()
    status, out, err = cli("sync", "Scripted PG")
    assert status == 1
    assert err.count("\n") == 1 and err.count("refused the credentials") == 1
    assert "not run: contracts, member_products, visits" in err and "wrong-secret" not in err
    assert list(SyncRun.objects.values_list("sync_name", "status")) == [("members", "failed")]
    assert out.splitlines() == ["members: failed; created 0, updated 0, unchanged 0, skipped 0, failed 0"]


def test_an_error_every_sync_shares_is_told_once(cli, capsys, pg_sandbox, customer_number):
    pg_add("--set", f"client_secret={PG_CLIENT_SECRET}")  # no location has a club number yet
    capsys.readouterr()
    status, out, err = cli("sync", "Scripted PG")
    assert status == 1 and err == "CommandError: 4 syncs failed: members, contracts, member_products, visits.\n"
    lines = out.splitlines()
    assert "error: PermanentError: No location has a Perfect Gym club number yet" in lines[0]
    assert lines[1:] == [f"{name}: failed; created 0, updated 0, unchanged 0, skipped 0, failed 0; "
                         "error: the same as members" for name in ("contracts", "member_products", "visits")]


def test_an_unknown_sync_name_is_one_line_and_an_exit_status(cli, integration):
    status, out, err = cli("sync", integration.name, "everything")
    assert status == 1
    assert err == "CommandError: Example member system has no sync named 'everything'; its syncs: members.\n"


def test_a_usage_error_is_one_line(cli):
    status, out, err = cli("add", "perfectgym")
    assert status == 2
    assert err == ("manage.py integration add: the following arguments are required: name "
                   "(see manage.py integration add --help)\n")


def test_sync_ends_with_the_runs_report(capsys, pg_sandbox, customer_number):
    Location.objects.create(alt_id="UB", name="Uxbridge", integration_numbers={"perfectgym_club": "1"})
    pg_add("--set", f"client_secret={PG_CLIENT_SECRET}")
    capsys.readouterr()
    call_command("integration", "sync", "Scripted PG", "--initial", "--location", "Uxbridge")
    out = capsys.readouterr().out.splitlines()
    contracts = next(i for i, line in enumerate(out) if line.startswith("contracts: succeeded"))
    assert re.fullmatch(r"  payment_plan_\d+: \d+ contracts without a package", out[contracts + 1])
    assert out[-1].startswith("  ")  # the last run's report closes the output


def test_an_unknown_kind_names_the_kinds(cli):
    status, out, err = cli("add", "perfectgim", "Typo")
    assert status == 1
    assert err == ("CommandError: No integration kind 'perfectgim'; "
                   "the kinds: gladstone, glofox, kisi, momence, perfectgym.\n")


class FormDefaults(HTMLParser):
    """What a browser submits from a page's form when nobody types: inputs' values, ticked
    boxes, selected options."""

    def __init__(self):
        super().__init__()
        self.values, self._select = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "password"):
            if attrs.get("type") != "checkbox":
                self.values[name] = attrs.get("value", "")
            elif "checked" in attrs:
                self.values[name] = attrs.get("value", "on")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs and attrs.get("value"):
            self.values[self._select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def test_add_makes_what_the_admins_add_page_makes_from_the_same_typing(admin_client, customer_number):
    page = admin_client.get("/admin/integrations/integration/add/?kind=perfectgym")
    form = FormDefaults()
    form.feed(page.content.decode())
    typed = {"name": "Through the admin", "base_url": PG_URL, "client_id": PG_CLIENT_ID,
             "client_secret": PG_CLIENT_SECRET, "identity_type": str(customer_number.pk)}
    answer = admin_client.post("/admin/integrations/integration/add/?kind=perfectgym", {**form.values, **typed})
    assert answer.status_code == 302
    pg_add("--set", f"client_secret={PG_CLIENT_SECRET}")
    through_admin, through_cli = (Integration.objects.get(name=name) for name in ("Through the admin", "Scripted PG"))
    assert through_cli.settings == through_admin.settings
    assert through_cli.is_active == through_admin.is_active


def test_a_second_integration_of_a_one_only_vendor_is_one_line(cli):
    call_command("integration", "add", "glofox", "Our Glofox", "--set", "api_key=k", "--set", "api_token=t")
    status, out, err = cli("add", "glofox", "Another Glofox", "--set", "api_key=k", "--set", "api_token=t")
    assert status == 1
    assert err == ("CommandError: Invalid settings: Only one Glofox integration is allowed per organisation; "
                   "add another configuration to the existing one instead.\n")
    assert Integration.objects.filter(kind="glofox").count() == 1
