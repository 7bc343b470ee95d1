"""Scripted setup and operation of integrations: add, list, test, sync, audit.

Every failure is one line on stderr and a non-zero exit status (`--traceback` shows the
trace of an unexpected one); `add` fills the admin's own settings form
(integrations.settings_text), so both make the same integration from the same input.
"""

import argparse
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from tqdm import tqdm

from clients.models import Location
from integrations.audits import audit_run
from integrations.connectors import connector_class, connector_classes, connector_for
from integrations.errors import AuthError, VendorError
from integrations.models import Integration, SyncRun
from integrations.scheduling import schedule_next_run
from integrations.services import integration_save
from integrations.settings_text import (
    SettingsTextError,
    form_errors_line,
    settings_form_from_text,
    settings_help,
)
from integrations.sync import SyncAlreadyRunning, sync_run


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(str(text).split())


class OneLineParser(CommandParser):
    """A usage error is one line naming the fix, not the usage block."""

    def error(self, message):
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")
        super().error(message)


class SettingsHelp(argparse.Action):
    """`add KIND --help`: the usual help, then every setting of KIND with its meaning and default."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):  # noqa: A002
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        kind = getattr(namespace, "kind", None)
        if kind in connector_classes():
            parser._print_message("\n" + settings_help(kind) + "\n", sys.stdout)
        else:
            kinds = ", ".join(sorted(k for k, c in connector_classes().items() if not c.hidden))
            parser._print_message(f"\nKINDS: {kinds}. `add KIND --help` lists the settings of KIND.\n", sys.stdout)
        parser.exit()


class Command(BaseCommand):
    help = "Add, list, test, sync and audit integrations."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineParser  # the same parser, its errors on one line (subparsers inherit it)
        return parser

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list,test,sync,audit}",
                                    parser_class=OneLineParser)
        add = sub.add_parser("add", add_help=False, help="Add an integration: add KIND NAME --set key=value ...",
                             description="Add an integration with the admin's defaults and checks.")
        add.add_argument("-h", "--help", action=SettingsHelp, help="Show this help and the settings of KIND.")
        add.add_argument("kind", help="The vendor: `add KIND --help` lists its settings.")
        add.add_argument("name")
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="A setting; repeat. VALUE - reads it from standard input (typed unseen on "
                              "a terminal), @NAME takes the environment variable NAME: use either for secrets.")
        add.add_argument("--inactive", action="store_true", help="Add it paused (no syncs, no webhooks).")
        sub.add_parser("list", help="List integrations with their last runs.")
        test = sub.add_parser("test", help="Test the connection of NAME.")
        test.add_argument("name")
        sync = sub.add_parser("sync", help="Run a sync of NAME now and print its report.")
        sync.add_argument("name")
        sync.add_argument("sync_name", nargs="?", help="Which sync (default: every one it offers).")
        sync.add_argument("--initial", action="store_true", help="Perform the initial sync.")
        sync.add_argument("--location", metavar="LOCATION", help="Only this location, by alt ID or name "
                          "(initial sync).")
        audit = sub.add_parser("audit", help="Run the audit of NAME now.")
        audit.add_argument("name")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except CommandError as error:
            raise CommandError(one_line(error)) from None
        except (VendorError, SyncAlreadyRunning, SettingsTextError) as error:
            raise CommandError(one_line(error)) from None
        except ValidationError as error:  # a service refused (e.g. a second integration of a one-only vendor)
            raise CommandError(one_line(" ".join(error.messages))) from None
        except Exception as error:
            if options.get("traceback"):
                raise
            raise CommandError(f"{type(error).__name__}: {one_line(error)} "
                               "(run again with --traceback for the details)") from None

    def _integration(self, name: str) -> Integration:
        integration = Integration.objects.filter(name=name).first()
        if integration is None:
            known = ", ".join(Integration.objects.values_list("name", flat=True)[:20]) or "none yet"
            raise CommandError(f"No integration named {name!r} (integrations: {known}).")
        return integration

    def do_add(self, *, kind, name, set, inactive, **options):  # noqa: A002 - the flag's name
        if kind not in connector_classes():
            kinds = ", ".join(sorted(k for k, c in connector_classes().items() if not c.hidden))
            raise CommandError(f"No integration kind {kind!r}; the kinds: {kinds}.")
        form = settings_form_from_text(kind=kind, name=name, pairs=set, is_active=not inactive)
        if not form.is_valid():
            raise CommandError(f"Invalid settings: {form_errors_line(form)}")
        integration = integration_save(
            kind=kind, name=name, is_active=form.cleaned_data["is_active"],
            settings=form.settings_values(), secrets=form.secret_values(),
        )
        next_run = schedule_next_run(integration_id=integration.pk)
        when = f"next run {next_run:%Y-%m-%d %H:%M:%S}" if next_run else "not scheduled"
        self.stdout.write(f"Added {connector_class(kind).label} integration {integration.name!r}; {when}.")

    def do_list(self, **options):
        for integration in Integration.objects.all():
            last = integration.runs.first()
            state = f"last {last.summary()} at {last.started_at:%Y-%m-%d %H:%M:%S}" if last else "never run"
            next_run = schedule_next_run(integration_id=integration.pk)
            when = f"next {next_run:%Y-%m-%d %H:%M:%S}" if next_run else "not scheduled"
            active = "active" if integration.is_active else "inactive"
            self.stdout.write(f"{integration.name:<24} {integration.kind:<12} {active:<9} {state}; {when}")

    def do_test(self, *, name, **options):
        integration = self._integration(name)
        try:
            message = connector_for(integration).test_connection()
        except VendorError as error:
            raise CommandError(f"Connection failed: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"Connection OK: {message}"))

    def _location(self, connector, text: str) -> Location:
        location = Location.objects.filter(Q(alt_id__iexact=text) | Q(name__iexact=text)).first()
        if location is None:
            raise CommandError(f"No location with alt ID or name {text!r}.")
        if not connector.initial_by_location:
            raise CommandError(f"{connector.label} cannot limit a sync to a location: its members "
                               "are not kept per location. Leave out --location.")
        if not connector.initial_locations().filter(pk=location.pk).exists():
            raise CommandError(f"Location {location.alt_id!r} carries no {connector.label} number for a site.")
        return location

    def do_sync(self, *, name, sync_name, initial, location, **options):
        integration = self._integration(name)
        connector = connector_for(integration)
        offered = [spec.name for spec in connector.syncs]
        if sync_name and sync_name not in offered:
            raise CommandError(f"{connector.label} has no sync named {sync_name!r}; its syncs: {', '.join(offered)}.")
        names = [sync_name] if sync_name else connector.initial_sync_names() if initial else offered
        sync_options = {"initial": True} if initial else {}
        if location:
            if not initial:
                raise CommandError("--location applies to an initial sync only: add --initial.")
            sync_options["location"] = self._location(connector, location).alt_id
        failed, errors = [], {}  # errors: the first sync that failed with each error
        for index, each in enumerate(names):
            run = self._run(integration, each, sync_options, initial)
            error = one_line(run.error)
            refused = error.startswith(f"{AuthError.__name__}:")
            told = "" if not error or refused else f"; error: the same as {errors[error]}" if error in errors \
                else f"; error: {error}"
            errors.setdefault(error, each)
            self.stdout.write(run.summary() + told)
            for line in run.report.splitlines():
                self.stdout.write(f"  {line}")
            if refused:  # a refused login would fail every other sync the same way: one message, then stop
                rest = names[index + 1:]
                raise CommandError(
                    f"{integration}: {each} stopped: {error}" + (f"; not run: {', '.join(rest)}" if rest else "")
                    + f". Correct the credentials in Settings > Integrations, then `integration test {integration}`.")
            if run.status != SyncRun.Status.SUCCEEDED:
                failed.append(each)
        if failed:
            raise CommandError(f"A sync failed: {', '.join(failed)}." if len(failed) == 1
                               else f"{len(failed)} syncs failed: {', '.join(failed)}.")

    def _run(self, integration, sync_name, sync_options, initial) -> SyncRun:
        bar = tqdm(desc=sync_name, unit="rec", disable=not sys.stdout.isatty(), file=sys.stdout)

        def progress(done, total):
            if total and bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

        try:
            return sync_run(integration=integration, sync_name=sync_name, options=sync_options,
                            trigger=SyncRun.Trigger.INITIAL if initial else SyncRun.Trigger.COMMAND,
                            progress=progress)
        finally:
            bar.close()

    def do_audit(self, *, name, **options):
        run = audit_run(integration=self._integration(name), trigger=SyncRun.Trigger.COMMAND)
        self.stdout.write(run.summary())
        for line in run.report.splitlines():
            self.stdout.write(f"  {line}")
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"The audit failed: {run.error}")
