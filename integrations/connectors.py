"""The connector registry: what each vendor integration declares and offers.

A vendor package's `connector.py` subclasses `Connector`, declares its settings fields
(which are secret), its syncs and their default schedules, and builds sync jobs.
Connectors are listed by dotted path in settings.INTEGRATION_CONNECTORS.
"""

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.db import models
from django.dispatch import receiver
from django.utils.module_loading import import_string

from clients.models import Location
from clients.records import ClientRecord
from integrations.errors import PermanentError

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class SettingField:
    """One field of an integration's settings form; secret ones are encrypted at rest."""

    name: str
    form_field: forms.Field
    secret: bool = False
    # Where the secrets are sent (a Base URL): a new host there needs them entered again.
    # None: every URL field is one.
    endpoint: bool | None = None

    @property
    def is_endpoint(self) -> bool:
        return isinstance(self.form_field, forms.URLField) if self.endpoint is None else self.endpoint

    def effective(self, settings: dict) -> Any:
        """The value in `settings`, or the field's initial one when left empty (as connectors read it)."""
        return settings.get(self.name) or self.form_field.initial

    def to_json(self, value: Any) -> Any:
        if isinstance(value, models.Model):
            return value.pk
        if isinstance(value, models.QuerySet):
            return [obj.pk for obj in value]
        return value


def endpoint_origin(url: str | None) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a URL, default ports filled in; None for no URL.

    Two URLs with the same origin reach the same server, whatever their paths.
    """
    if not url:
        return None
    parts = urlsplit(str(url).strip())
    try:
        port = parts.port
    except ValueError:  # an unreadable port: an origin of its own
        port = -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").rstrip("."), port or DEFAULT_PORTS.get(scheme)


@dataclass(frozen=True)
class SyncSpec:
    """A sync a connector offers: the SyncJob that runs it, how often it runs unless settings
    say otherwise, and whether "Perform initial sync" runs it (in the order of `syncs`)."""

    name: str
    label: str
    job: type  # an integrations.sync.SyncJob subclass; the engine builds it (connectors never dispatch)
    default_minutes: int
    initial: bool = False
    interval_setting: str | None = None  # settings field holding the interval in minutes
    enabled_setting: str | None = None  # settings field (bool) switching it on and off
    scheduled: bool = True


# Every connector that checks member credentials gets this field: member logins try
# Gatehouse's own credentials, then these integrations, lowest number first.
LOGIN_ORDER_FIELD = SettingField("login_order", forms.IntegerField(
    label="Member login order", required=False, min_value=0, initial=10,
    help_text="When a member app login fails on Gatehouse's own credentials, integrations that "
              "check member credentials are tried in this order, lowest first.",
))


class EmailListField(forms.CharField):
    """Comma-separated e-mail addresses in the form, a list in the settings."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value):
        return [item.strip() for item in (super().to_python(value) or "").split(",") if item.strip()]

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        bad = [item for item in value if not _is_email(item)]
        if bad:
            raise ValidationError(f"Not an e-mail address: {', '.join(bad)}")


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# Every connector gets these (integrations.alerts): who is told when it breaks, and when.
ALERT_FIELDS = [
    SettingField("notification_emails", EmailListField(
        label="Notification e-mails", required=False,
        help_text="Comma-separated; told once when this integration keeps failing, lags or gives up "
                  "deliveries, and once when it recovers. Empty: the ALERT_EMAILS setting.",
    )),
    SettingField("alert_after_failures", forms.IntegerField(
        label="Alert after failed runs", required=False, min_value=1, initial=3,
        help_text="Alert when one of its syncs fails this many runs in a row.",
    )),
    SettingField("alert_lag_minutes", forms.IntegerField(
        label="Alert when lagging (minutes)", required=False, min_value=0, initial=60,
        help_text="Alert when a scheduled sync has not succeeded for its interval plus this many "
                  "minutes; 0: never.",
    )),
]


# Every connector that answers "anything changed?" (Connector.changes_waiting) gets this
# field: the poller (integrations.polling) asks that often and runs the sync at once on a yes.
POLL_FIELD = SettingField("poll_seconds", forms.IntegerField(
    label="Look for changes every (seconds)", required=False, min_value=0, initial=5,
    help_text="One small vendor call per sync each time: a change found is synced within seconds, "
              "between the scheduled runs. 0: off (the schedule alone).",
))
POLL_SECONDS = 5  # POLL_FIELD's default
# The poller's vendor calls (VendorHTTP options): short, never retried, so a slow or failing
# vendor holds the poller's worker for seconds, not minutes; the next look asks again.
POLL_HTTP_OPTIONS = {"timeout": (3.0, 5.0), "max_attempts": 1}


@dataclass
class CredentialResult:
    """What a vendor said about a member's credentials.

    On success `record` is the member as a neutral ClientRecord (keyed by the vendor's
    id), so the login service can match the client or create it from the vendor's data.
    """

    ok: bool
    record: ClientRecord | None = None
    reason: str = ""  # for the log only: the member is never told which check failed


@dataclass(frozen=True)
class CatalogueEntry:
    """A vendor product and the Gatehouse package it maps to (by alt id)."""

    alt_id: str
    name: str
    kind: str = "membership"  # packages.models.Package.Kind
    credits: int | None = None
    detail: str = ""


class Connector:
    """Base class of every vendor connector. One instance serves one Integration."""

    kind: str = ""
    label: str = ""
    settings_fields: list[SettingField] = []
    syncs: list[SyncSpec] = []
    audit_minutes: int | None = None  # a daily audit sets 24 * 60
    sandbox: str = ""  # dotted path of the vendor's sandbox class
    demo: str = ""  # dotted path of its integrations.demo_vendors.VendorDemo (how it takes part in `make demo`)
    webhook_signature_header: str = ""
    webhook_secret_field: str = ""
    # A vendor that cannot sign its webhooks: the name of the secret holding the token its
    # webhook address carries (made when the integration is saved; integrations.webhooks).
    webhook_token_secret: str = ""
    single_instance: bool = False  # only one integration of this kind per organisation
    # Left out of Settings > Integrations' type list unless DEBUG or INTEGRATION_SHOW_HIDDEN
    # (the example vendor); still added by ?kind= or `manage.py integration add KIND`.
    hidden: bool = False
    # The sync to run when another integration changed clients' access (door systems);
    # it gets options {"clients": [ids]} (None: everyone). See integrations.reactions.
    access_sync: str = ""
    # The outbound sync that checks members in at the vendor; woken when a door system
    # records door accesses (integrations.reactions.door_accesses_notify).
    checkin_sync: str = ""
    # The Location.integration_numbers key holding this vendor's number for a site (e.g.
    # Perfect Gym's club number); records waiting for it are placed when it is entered.
    location_number_key: str = ""
    # Whether an initial sync can be limited to one location's members
    # (options {"location": alt id}); initial_locations() says which locations can be chosen.
    initial_by_location: bool = False
    # Shown on "Perform initial sync" before the manager starts it (e.g. what the vendor's
    # contract cannot list).
    initial_sync_note: str = ""

    def __init__(self, integration):
        self.integration = integration

    @classmethod
    def on_ready(cls) -> None:
        """Called once at start-up (e.g. to register per-location numbers)."""

    # settings --------------------------------------------------------------
    @classmethod
    def form_fields(cls) -> list[SettingField]:
        """The settings form's fields: the vendor's own, plus the framework's (login order, alerts)."""
        own = {spec.name for spec in cls.settings_fields}
        extra = [LOGIN_ORDER_FIELD] if cls.offers_credential_check else []
        extra += [POLL_FIELD] if cls.polls_changes() else []
        extra += ALERT_FIELDS
        return [*cls.settings_fields, *(spec for spec in extra if spec.name not in own)]

    @property
    def settings(self) -> dict[str, Any]:
        return self.integration.settings or {}

    def setting_int(self, name: str, default: int) -> int:
        """An integer setting; empty or absent (integrations saved before it existed) is the
        default, and 0 stays 0."""
        value = self.settings.get(name)
        return default if value in (None, "") else int(value)

    @cached_property
    def secrets(self) -> dict[str, str]:
        return self.integration.secrets()

    def clean_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Cross-field validation of submitted settings; raise forms.ValidationError."""
        return values

    def initial_sync_names(self) -> list[str]:
        """The syncs an initial sync runs (SyncSpec.initial), in the order `syncs` lists them."""
        return [spec.name for spec in self.syncs if spec.initial]

    def sync_job(self, sync_name: str, options: dict):
        """The job of the sync named `sync_name`, built from its SyncSpec; `options` as the
        run was asked for ({"initial": True, "location": ...}, {"clients": [...]}, ...)."""
        spec = next((spec for spec in self.syncs if spec.name == sync_name), None)
        if spec is None:
            raise PermanentError(f"{self.label} has no sync named {sync_name!r}.")
        return spec.job(connector=self, options=options, name=sync_name, fresh_start=spec.job.starts_fresh(options))

    def initial_locations(self):
        """The Locations an initial sync can be limited to (those carrying this vendor's
        number for a site); none unless initial_by_location."""
        return Location.objects.none()

    def pending_package(self, wanted: str, packages) -> str | None:
        """The alt id of the package that takes a record naming the product `wanted`
        (integrations.pending), given every package's alt id (`packages`, a mapping);
        None while there is none. The vendor's product is the package's alt id here."""
        return wanted if wanted in packages else None

    def sync_interval(self, spec: SyncSpec) -> int | None:
        """Minutes between runs of `spec`, or None when it is switched off."""
        if spec.enabled_setting and not self.settings.get(spec.enabled_setting, True):
            return None
        if spec.interval_setting and self.settings.get(spec.interval_setting):
            return int(self.settings[spec.interval_setting])
        return spec.default_minutes

    # polling (integrations.polling) ----------------------------------------
    @classmethod
    def polls_changes(cls) -> bool:
        """Whether this vendor answers changes_waiting (its settings then show poll_seconds)."""
        return cls.changes_waiting is not Connector.changes_waiting

    def poll_seconds(self) -> int:
        """Seconds between the poller's looks at this integration; 0: never."""
        return self.setting_int(POLL_FIELD.name, POLL_SECONDS) if self.polls_changes() else 0

    def changes_waiting(self, sync_name: str, cursor) -> bool | None:
        """Whether the vendor holds changes the sync `sync_name` has not read past `cursor`
        (its stored SyncState cursor), asked with one or two cheap calls the contract lists;
        None: this sync is not polled (its schedule alone runs it). Raise VendorError if asked
        and the vendor fails."""
        return None

    # behaviour a vendor provides -------------------------------------------
    def test_connection(self) -> str:
        """Call the vendor once; return a one-line description or raise VendorError."""
        raise PermanentError(f"{self.label} cannot test its connection.")

    def audit(self, run) -> None:
        """The daily audit: fill `run` (counts, report); send what it must."""
        raise PermanentError(f"{self.label} has no audit.")

    def webhook_event(self, payload: dict) -> tuple[str, str]:
        """(event id, event type) of a webhook payload; raise ValueError if unusable."""
        raise ValueError("This integration does not take webhooks.")

    def webhook_event_time(self, payload: dict):
        """When the vendor says the event happened (an aware datetime, signed with the body),
        or None when its payload carries no such time; raise ValueError if unreadable.
        Events older than WEBHOOK_MAX_AGE_HOURS are refused (integrations.webhooks)."""
        return None

    def webhook_process(self, event) -> None:
        """Act on a stored WebhookEvent (runs in a task)."""

    offers_credential_check: bool = False
    offers_member_token: bool = False
    offers_catalogue: bool = False
    offers_client_sync: bool = False
    admin_inlines: list[str] = []  # dotted paths of admin inlines shown on the integration page

    def credential_check(self, identifier: str, password: str) -> CredentialResult:
        """Check a member's vendor credentials (connectors with offers_credential_check)."""
        raise PermanentError(f"{self.label} does not check member credentials.")

    def member_token_check(self, token: str) -> CredentialResult:
        """Check an encrypted member-id token from a partner app (offers_member_token)."""
        raise PermanentError(f"{self.label} does not take member tokens.")

    def client_sync(self, external_id: str) -> None:
        """Fetch one member from the vendor now and upsert it ("sync this member now")."""
        raise PermanentError(f"{self.label} cannot sync one member.")

    def catalogue(self) -> list[CatalogueEntry]:
        """The vendor's products, as packages they would become (offers_catalogue)."""
        raise PermanentError(f"{self.label} has no product catalogue.")


@lru_cache(maxsize=1)
def _registry() -> dict[str, type[Connector]]:
    classes = [import_string(path) for path in settings.INTEGRATION_CONNECTORS]
    return {cls.kind: cls for cls in classes}


@receiver(setting_changed)
def _reset_registry(*, setting, **kwargs):
    if setting == "INTEGRATION_CONNECTORS":
        _registry.cache_clear()


def connector_classes() -> dict[str, type[Connector]]:
    """Every registered connector class by kind."""
    return dict(_registry())


def connector_class(kind: str) -> type[Connector]:
    try:
        return _registry()[kind]
    except KeyError:
        raise PermanentError(f"No connector is registered for kind {kind!r}.") from None


def connector_for(integration) -> Connector:
    """The connector serving `integration`."""
    return connector_class(integration.kind)(integration)
