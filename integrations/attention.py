"""What needs a manager's attention, and what to do about it: why an integration fails,
and the records a sync read but could not use yet (integrations.pending).

`failure_cause` is the one reading of a failed run's error: the integration page and the
staff dashboard card both show it. `pending_attention` lists the records that wait for a
package, a tier or a location, grouped, each group with the fix that places them.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Min
from django.urls import reverse

from integrations.models import Integration, PendingRecord

Waits = PendingRecord.Waits

_AUTH = re.compile(r"^AuthError\b|answered 40[13]\b")
_UNREACHABLE = re.compile(r"^(TransientError|RateLimited)\b|ConnectionError|Timeout|answered 5\d\d\b")
_NO_NUMBER = re.compile(r"has no .*(club|location) number|no location has .* number", re.IGNORECASE)


def failure_cause(error: str) -> str:
    """A failed run's error as one line: what went wrong and what to do.

    Wrong credentials (the vendor answered 401/403), the vendor unreachable (no connection,
    a timeout, a 5xx, asked to wait), a location without the vendor's number; otherwise the
    error's first line.
    """
    first = (error or "").strip().splitlines()[0] if (error or "").strip() else ""
    if not first:
        return ""
    if _AUTH.search(first):
        return ("Wrong credentials: the vendor refused them (401/403). Enter the client ID and secret (or API "
                "key) again on the integration page and press Test connection.")
    if _UNREACHABLE.search(first):
        return ("Vendor unreachable: no answer, a timeout or a server error. Check the Base URL and the "
                "vendor's status; the next run tries again.")
    if _NO_NUMBER.search(first):
        return ("A location has no club number: enter the vendor's number in the Location's Integrations "
                "section, then run the sync again.")
    return first.split(": ", 1)[1] if re.match(r"^\w+Error: ", first) else first


@dataclass(frozen=True)
class PendingGroup:
    """Records of one integration waiting for the same thing, and the fix that places them."""

    integration: Integration
    waits_for: str
    wanted: str  # the package's alt id, the tier's alt id or the vendor's location number
    records: int
    clients: int
    since: object  # when the oldest was first kept

    @property
    def what(self) -> str:
        if self.waits_for == Waits.PACKAGE:
            return f"{self.wanted}: {self.records} record(s) of {self.clients} client(s) without a package"
        if self.waits_for == Waits.TIER:
            return f"Tier {self.wanted}: {self.records} record(s) hold their package without this location tier"
        return f"Location number {self.wanted}: {self.records} record(s) hold their package without a location"

    @property
    def fix(self) -> str:
        if self.waits_for == Waits.PACKAGE:
            return (f"Create a package with alt ID {self.wanted} (the integration's catalogue can); it is "
                    "assigned to these clients at once.")
        if self.waits_for == Waits.TIER:
            return f"Add the location tier {self.wanted}; it is assigned at once."
        return f"Enter {self.wanted} as the vendor's number on its Location; it is assigned at once."

    @property
    def fix_url(self) -> str:
        """The admin page where the fix is made."""
        if self.waits_for == Waits.PACKAGE:
            return reverse("admin:packages_package_add") + "?" + urlencode({"alt_id": self.wanted,
                                                                            "name": self.wanted})
        if self.waits_for == Waits.TIER:
            return reverse("admin:clients_locationtier_add") + "?" + urlencode({"alt_id": self.wanted})
        return reverse("admin:clients_location_changelist")

    @property
    def list_url(self) -> str:
        """The waiting records themselves, in the admin."""
        return reverse("admin:integrations_pendingrecord_changelist") + "?" + urlencode(
            {"integration__id__exact": self.integration.pk, "waits_for__exact": self.waits_for})


def pending_attention(*, integration_id: int | None = None) -> list[PendingGroup]:
    """Records waiting for a package, tier or location, grouped, largest group first (one query)."""
    rows = PendingRecord.objects.filter(client__deleted_at__isnull=True)
    if integration_id is not None:
        rows = rows.filter(integration_id=integration_id)
    grouped = (rows.values("integration_id", "waits_for", "package_wanted", "tier_wanted", "location_wanted")
               .annotate(records=Count("id"), clients=Count("client_id", distinct=True), since=Min("seen_at"))
               .order_by("-records"))
    integrations = {i.pk: i for i in Integration.objects.filter(pk__in={g["integration_id"] for g in grouped})}
    groups: dict[tuple, PendingGroup] = {}
    for g in grouped:
        wanted = {Waits.PACKAGE: g["package_wanted"], Waits.TIER: g["tier_wanted"]}.get(
            g["waits_for"], g["location_wanted"])
        key = (g["integration_id"], g["waits_for"], wanted)
        before = groups.get(key)
        groups[key] = PendingGroup(
            integration=integrations[g["integration_id"]], waits_for=g["waits_for"], wanted=wanted,
            records=g["records"] + (before.records if before else 0),
            clients=g["clients"] + (before.clients if before else 0),
            since=min(g["since"], before.since) if before else g["since"])
    return sorted(groups.values(), key=lambda group: -group.records)
