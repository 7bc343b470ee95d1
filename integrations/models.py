"""Integrations, their sync state, runs, issues and received webhook events."""

from django.db import models
from django.utils import timezone

from integrations.crypto import SecretUnreadable, StoredSecrets, secret_fields_read, secret_fields_write


class Integration(models.Model):
    """A connection to one vendor system (Settings > Integrations).

    `settings` holds the connector's plain fields; `secrets_token` holds its secret
    fields, one Fernet token per field (integrations.crypto), so one that cannot be read
    with the current keys does not take the others with it (never shown back, never logged).
    """

    kind = models.CharField(max_length=32, help_text="Which connector (vendor) this is.")
    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField("active", default=True)
    settings = models.JSONField(default=dict, blank=True)
    secrets_token = models.TextField(blank=True, default="", editable=False)
    # `make demo` re-points only its own integrations at its sandboxes, never an operator's.
    is_demo = models.BooleanField("made by the demo", default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"<Integration {self.pk} {self.kind} {self.name!r}>"

    @property
    def source(self) -> str:
        """The key club records use to say they came from this integration."""
        return f"{self.kind}-{self.pk}"

    def stored_secrets(self) -> StoredSecrets:
        """The secrets that can be read and the ones that cannot (never raises)."""
        return secret_fields_read(self.secrets_token)

    @property
    def secrets_readable(self) -> bool:
        """Whether every stored secret can be read with the current FIELD_ENCRYPTION_KEYS.

        The one question every page, webhook and sync asks before relying on them.
        """
        return self.stored_secrets().readable

    def secrets(self) -> dict[str, str]:
        """The decrypted secrets; raises SecretUnreadable when any cannot be read."""
        stored = self.stored_secrets()
        if not stored.readable:
            raise SecretUnreadable()
        return stored.values

    def set_secrets(self, values: dict[str, str], *, kept: dict[str, str] | None = None) -> None:
        """Store `values` encrypted (newest key), with `kept` unreadable tokens as they are."""
        self.secrets_token = secret_fields_write(values, kept=kept)


class SyncState(models.Model):
    """Where one sync of one integration stands: its cursor and who is running it.

    A run claims the row with one conditional UPDATE (see integrations.sync.claim),
    so two workers never run the same sync together; the claim is a lease renewed
    after every page, so a worker that dies frees it when the lease runs out.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="states")
    sync_name = models.CharField(max_length=50)
    cursor = models.JSONField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # A woken run (a webhook's, or the poller's for a change it saw) is queued and has not
    # claimed the sync yet (integrations.wakes): wakes meanwhile queue nothing more, since that
    # run will read their changes; the next claim clears it.
    wake_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "sync_name"], name="sync_state_unique"),
        ]

    def __str__(self):
        return f"{self.integration} {self.sync_name}"


class SyncRun(models.Model):
    """One run of one sync: what it did, from which cursor to which, and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned (worker stopped)"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"
        INITIAL = "initial", "Initial sync"
        WEBHOOK = "webhook", "Webhook"
        COMMAND = "command", "Command line"
        ACCESS = "access", "Access change"
        POLL = "poll", "Change seen"  # the poller saw a change at the vendor (integrations.polling)

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="runs")
    sync_name = models.CharField(max_length=50)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    options = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cursor_before = models.JSONField(null=True, blank=True)
    cursor_after = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    report = models.TextField(blank=True, help_text="What the run wants a manager to read.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["integration", "sync_name", "-started_at"])]

    def __str__(self):
        return f"{self.integration} {self.sync_name} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    def summary(self) -> str:
        return (
            f"{self.sync_name}: {self.status}; created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, skipped {self.skipped}, failed {self.failed}"
        )

    def log_fields(self) -> dict:
        """The run as log fields (config.logs): integration, sync, run id, outcome, counts."""
        return {"integration": self.integration_id, "sync": self.sync_name, "run": self.pk, "outcome": self.status,
                # "records_": LogRecord has a "created" of its own.
                **{f"records_{name}": getattr(self, name)
                   for name in ("created", "updated", "unchanged", "skipped", "failed")},
                "duration_ms": round(self.duration.total_seconds() * 1000) if self.duration else None}


class SyncIssue(models.Model):
    """A vendor record a sync could not use, kept for staff to read and resolve."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="issues")
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues")
    sync_name = models.CharField(max_length=50)
    record_key = models.CharField(max_length=100, blank=True, help_text="The vendor's id for it.")
    reason = models.TextField()
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    occurrences = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["integration", "resolved_at"])]
        # Front desk may sync one member again (staff pages) without editing the integration.
        permissions = [("retry_client_sync", "Can retry a member's sync")]

    def __str__(self):
        return f"{self.record_key or 'record'}: {self.reason[:60]}"


class WebhookEvent(models.Model):
    """One vendor event received on a webhook, stored once per event id."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    # No index of its own: the unique (integration, event_id) index serves lookups by integration,
    # and every webhook answered writes one index fewer.
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="webhook_events",
                                    db_index=False)
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self):
        return f"{self.event_type or 'event'} {self.event_id}"


class PendingRecord(models.Model):
    """A client package a member sync could not place in full, kept until it can be.

    The package it names does not exist yet (or the location tier, or the location
    carrying the vendor's number for the site). integrations.pending keeps these: each
    sync replaces what it knows of the records it reads again, and creating or changing
    the package, tier or location places the records waiting for it at once.
    """

    class Waits(models.TextChoices):
        PACKAGE = "package", "a package"
        TIER = "tier", "a location tier"
        LOCATION = "location", "a location's number"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="pending_records")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=64, help_text="The vendor's reference: the client package's alt ID.")
    package_wanted = models.CharField(
        max_length=64, help_text="The product as the vendor names it (a package alt ID, e.g. payment_plan_24, "
                                 "or a Gladstone SubTypeID its tier rule reads).")
    tier_wanted = models.CharField(max_length=8, blank=True, help_text="The location tier's alt ID it names.")
    location_wanted = models.CharField(
        max_length=64, blank=True, help_text="The vendor's number for the location (e.g. a Perfect Gym club).")
    waits_for = models.CharField(max_length=10, choices=Waits.choices, default=Waits.PACKAGE)
    # The rest of the neutral client package: start, end, status, location_id, credits.
    record = models.JSONField(default=dict)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "record waiting for a package"
        verbose_name_plural = "records waiting for a package"
        ordering = ["package_wanted", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "reference"], name="pending_record_once_per_reference"),
        ]
        indexes = [models.Index(fields=["waits_for", "integration"])]

    def __str__(self):
        return f"{self.reference} waits for {self.get_waits_for_display()} ({self.package_wanted})"


class Delivery(models.Model):
    """One thing Gatehouse sends to a vendor (a check-in, a tag change), sent through the
    outbox (integrations.outbox): at most one per idempotency key and integration.

    The record it is for is `record_type` + `record_id` (a door access, a booking, a
    client), and `client` is the member it concerns, so staff can find what was sent for
    whom. `payload` is what to send, never a secret.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (retrying)"
        GAVE_UP = "gave_up", "Failed (gave up)"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=32, help_text="What is sent, e.g. checkin or tag_push.")
    sync_name = models.CharField(max_length=64, help_text="The sync that sends it (woken by a retry).")
    key = models.CharField("idempotency key", max_length=200)
    version = models.BigIntegerField(default=0, help_text="A newer version of the same key replaces it.")
    record_type = models.CharField(max_length=32, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    resend_interrupted = models.BooleanField(
        default=True, help_text="The vendor tolerates a repeat: a send interrupted by a crash is sent again "
                                "(otherwise it is given up and shown).")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "key"], name="delivery_key_once"),
        ]
        indexes = [
            models.Index(fields=["integration", "state", "next_attempt_at"]),
            models.Index(fields=["record_type", "record_id"]),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.kind} {self.key}: {self.get_state_display()}"


class DeliveryAttempt(models.Model):
    """One call made for a delivery: what was asked (method and path, no secrets), what the
    vendor answered (status, a short redacted excerpt) and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    step = models.CharField(max_length=32, blank=True, help_text="Which call of a delivery of several.")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    request = models.CharField(max_length=300, blank=True, help_text="Method and path, never a secret.")
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="The error's class and summary.")

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"{self.step or 'call'} {'ok' if self.ok else 'failed'}"


class WorkerHeartbeat(models.Model):
    """The last time a task worker on one machine ran the heartbeat task (every minute).

    Readiness (integrations.health) wants one younger than HEALTH_WORKER_MAX_AGE_SECONDS:
    it proves the scheduler fires, the broker delivers and a worker runs what it is given.
    """

    machine = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.machine} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Alert(models.Model):
    """A condition someone is e-mailed about once when it starts and once when it ends
    (integrations.alerts): an integration failing or lagging, deliveries given up, the
    service not ready. One row per condition; its `active` flag only changes with a
    conditional UPDATE, so two workers never both send."""

    class Kind(models.TextChoices):
        FAILING = "failing", "Failing sync"
        LAGGING = "lagging", "Lagging behind the vendor"
        GAVE_UP = "gave_up", "Deliveries given up"
        READINESS = "readiness", "Service not ready"

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="alerts")
    active = models.BooleanField(default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, help_text="What the opening e-mail said.")

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self):
        return f"{self.get_kind_display()} ({'open' if self.active else 'closed'})"


class OutcomeCount(models.Model):
    """How often an event ended one way (member logins by outcome), for /metrics: a counter
    kept in the database, so every web process and worker adds to the same one."""

    event = models.CharField(max_length=50)
    outcome = models.CharField(max_length=50)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "outcome"], name="outcome_count_once")]

    def __str__(self):
        return f"{self.event} {self.outcome}: {self.count}"
