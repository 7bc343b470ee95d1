"""Scripted setup and operation of integrations: add, list, test, sync, audit."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from clients.models import Location
from integrations.audits import audit_run
from integrations.connectors import connector_for
from integrations.errors import PermanentError, VendorError
from integrations.models import Integration, SyncRun
from integrations.scheduling import schedule_next_run
from integrations.services import integration_save
from integrations.settings_form import settings_form_class
from integrations.sync import SyncAlreadyRunning, sync_run


class Command(BaseCommand):
    help = "Add, list, test, sync and audit integrations."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add an integration: add KIND NAME --set key=value ...")
        add.add_argument("kind")
        add.add_argument("name")
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="A setting or secret; repeat. Secrets may be given as KEY=@ENVVAR.")
        add.add_argument("--inactive", action="store_true")
        sub.add_parser("list", help="List integrations with their last runs.")
        test = sub.add_parser("test", help="Test the connection of NAME.")
        test.add_argument("name")
        sync = sub.add_parser("sync", help="Run a sync of NAME now.")
        sync.add_argument("name")
        sync.add_argument("sync_name", nargs="?", help="Which sync (default: every one it offers).")
        sync.add_argument("--initial", action="store_true", help="Perform the initial sync.")
        sync.add_argument("--location", metavar="ALT_ID", help="Only this location (initial sync).")
        audit = sub.add_parser("audit", help="Run the audit of NAME now.")
        audit.add_argument("name")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def _integration(self, name: str) -> Integration:
        integration = Integration.objects.filter(name=name).first()
        if integration is None:
            raise CommandError(f"No integration named {name!r}.")
        return integration

    def do_add(self, *, kind, name, set, inactive, **options):  # noqa: A002 - the flag's name
        data = {"name": name, "is_active": not inactive}
        for pair in set:
            key, _, value = pair.partition("=")
            data[key] = os.environ.get(value[1:], "") if value.startswith("@") else value
        try:
            form = settings_form_class(kind)(data=data)
        except PermanentError as error:
            raise CommandError(str(error)) from None
        if not form.is_valid():
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            raise CommandError(f"Invalid settings: {problems}")
        integration = integration_save(
            kind=kind, name=name, is_active=form.cleaned_data["is_active"],
            settings=form.settings_values(), secrets=form.secret_values(),
        )
        self.stdout.write(f"Added {integration.kind} integration {integration.name!r} (id {integration.pk}).")

    def do_list(self, **options):
        for integration in Integration.objects.all():
            last = integration.runs.first()
            state = f"last {last.summary()} at {last.started_at:%Y-%m-%d %H:%M}" if last else "never run"
            next_run = schedule_next_run(integration_id=integration.pk)
            when = f"next {next_run:%Y-%m-%d %H:%M}" if next_run else "not scheduled"
            active = "active" if integration.is_active else "inactive"
            self.stdout.write(
                f"{integration.pk:>4} {integration.name:<24} {integration.kind:<12} {active:<9} "
                f"{state}; {when}"
            )

    def do_test(self, *, name, **options):
        integration = self._integration(name)
        try:
            message = connector_for(integration).test_connection()
        except VendorError as error:
            raise CommandError(f"Connection failed: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"Connection OK: {message}"))

    def do_sync(self, *, name, sync_name, initial, location, **options):
        integration = self._integration(name)
        connector = connector_for(integration)
        if sync_name:
            names = [sync_name]
        elif initial:
            names = connector.initial_sync_names()
        else:
            names = [spec.name for spec in connector.syncs]
        sync_options = {"initial": True} if initial else {}
        if location:
            if not Location.objects.filter(alt_id=location).exists():
                raise CommandError(f"No location with alt ID {location!r}.")
            if not connector.initial_by_location:
                raise CommandError(f"{connector.label} cannot limit a sync to a location: its members "
                                   "are not kept per location. Leave out --location.")
            if not initial:
                raise CommandError("--location applies to an initial sync only: add --initial.")
            if not connector.initial_locations().filter(alt_id=location).exists():
                raise CommandError(f"Location {location!r} carries no {connector.label} number for a site.")
            sync_options["location"] = location
        failed = False
        for each in names:
            bar = tqdm(desc=each, unit="rec", disable=not sys.stdout.isatty(), file=sys.stdout)

            def progress(done, total, bar=bar):
                if total and bar.total != total:
                    bar.total = total
                bar.n = done
                bar.refresh()

            try:
                run = sync_run(
                    integration=integration, sync_name=each, options=sync_options,
                    trigger=SyncRun.Trigger.INITIAL if initial else SyncRun.Trigger.COMMAND,
                    progress=progress,
                )
            except SyncAlreadyRunning as error:
                bar.close()
                raise CommandError(str(error)) from None
            bar.close()
            line = run.summary() + (f"; error: {run.error}" if run.error else "")
            self.stdout.write(line)
            failed |= run.status != SyncRun.Status.SUCCEEDED
        if failed:
            raise CommandError("A sync failed.")

    def do_audit(self, *, name, **options):
        run = audit_run(integration=self._integration(name), trigger=SyncRun.Trigger.COMMAND)
        self.stdout.write(run.summary())
        if run.report:
            self.stdout.write(run.report)
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"The audit failed: {run.error}")
