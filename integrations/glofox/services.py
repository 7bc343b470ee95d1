"""Writes of the Glofox integration: configurations and the access rules they keep."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accessctl.models import AccessRule, KisiGroup, KisiPlace
from accessctl.services import access_rule_packages_add, access_rule_set, access_rules_delete
from integrations.connectors import CatalogueEntry
from integrations.glofox.client import MembershipType
from integrations.glofox.mapping import BOOKED_KINDS, package_alt_id, package_kind
from integrations.glofox.models import GlofoxConfiguration
from integrations.reactions import access_changed_notify
from packages.models import Package
from packages.services import packages_create_missing

# The seed's own words for a group scoped to a place (Kisi shows exactly this).
AMBIGUOUS_GROUP = ("The organization is ambiguous, please check if relevant references belong to the "
                   "same organization")


def configuration_check(*, kisi_group: KisiGroup | None, kisi_place: KisiPlace | None) -> None:
    """Refuse a place-scoped group and a place that is no club location (ValidationError)."""
    errors = {}
    if kisi_group is not None and not kisi_group.is_organization_scoped:
        errors["kisi_group"] = AMBIGUOUS_GROUP
    if kisi_place is not None and kisi_place.location_id is None:
        errors["kisi_place"] = (f"The Kisi place {kisi_place} is not mapped to a club location yet; "
                                "set its location under Access control > Kisi places first.")
    if errors:
        raise ValidationError(errors)


def catalogue_entries(memberships: list[MembershipType]) -> list[CatalogueEntry]:
    """Glofox membership types as the packages they become."""
    return [CatalogueEntry(alt_id=package_alt_id(m.id), name=m.name, kind=package_kind(m.type),
                           detail=m.type) for m in memberships]


@transaction.atomic
def configuration_save(
    *, configuration: GlofoxConfiguration, memberships: list[MembershipType] | None = None
) -> GlofoxConfiguration:
    """Save a configuration, set the access rules it implies (configuration_rules_apply)
    and tell the door system which clients' access may have changed.

    `memberships` is the branch's catalogue (None when Glofox could not be read).
    """
    configuration_check(kisi_group=configuration.kisi_group, kisi_place=configuration.kisi_place)
    configuration.save()
    changed = configuration_rules_apply(configuration=configuration, memberships=memberships)
    access_changed_notify(client_ids=changed, origin=configuration.integration)
    return configuration


@transaction.atomic
def configuration_rules_apply(
    *, configuration: GlofoxConfiguration, memberships: list[MembershipType] | None = None,
    booked_package_ids: set[int] = frozenset(),
) -> set[int]:
    """Make the access rules of `configuration` exactly the ones it implies; the one
    computation the configuration's save and every members sync share.

    A "package" rule gives active holders of the selected membership types the
    configured Kisi group. With bookings enabled, a "booking" rule gives holders of the
    branch's credit packs and pay-as-you-go memberships the group from the
    configuration's minutes before each booked class at its location to its minutes
    after; its packages are the booked kinds of `memberships` (the branch's catalogue,
    None when Glofox could not be read), `booked_package_ids` (seen on members) and
    those the rule already has. Missing packages are created with their kind. The
    rules' terms are the configuration's: an edit of the rule elsewhere is undone.
    Returns the clients whose access may change (the caller wakes the door system).
    """
    catalogue = {m.id: m for m in memberships or []}
    selected = [str(m) for m in configuration.membership_types]
    entries = catalogue_entries([catalogue.get(m) or MembershipType(m, f"Glofox membership {m}", "time")
                                 for m in selected])
    booked = [e for e in catalogue_entries(list(catalogue.values())) if e.kind in BOOKED_KINDS] \
        if configuration.bookings_enabled else []
    packages_create_missing(entries=entries + booked)
    ids = dict(Package.objects.filter(alt_id__in=[e.alt_id for e in entries + booked])
               .values_list("alt_id", "pk"))
    owner = configuration.owner
    changed = access_rule_set(owner=owner, reason=AccessRule.Reason.PACKAGE, group=configuration.kisi_group,
                              package_ids={ids[e.alt_id] for e in entries})
    booking_packages = set()
    if configuration.bookings_enabled:
        # Keep the credit packs the members sync added (types the catalogue no longer lists).
        booking_packages = {ids[e.alt_id] for e in booked} | set(booked_package_ids) | set(
            AccessRule.objects.filter(owner=owner, reason=AccessRule.Reason.BOOKING)
            .values_list("packages", flat=True)) - {None}
    changed |= access_rule_set(
        owner=owner, reason=AccessRule.Reason.BOOKING, group=configuration.kisi_group,
        package_ids=booking_packages, location_id=configuration.location_id,
        minutes_before=configuration.booking_minutes_before, minutes_after=configuration.booking_minutes_after,
    )
    return changed


def configuration_booked_packages_add(*, configuration: GlofoxConfiguration, package_ids: set[int]) -> set[int]:
    """Credit packs and PAYG memberships seen on members join the configuration's booking
    rule, which is made now if it is missing (a save that could not read the catalogue).
    Returns the clients whose access may change."""
    if AccessRule.objects.filter(owner=configuration.owner, reason=AccessRule.Reason.BOOKING).exists():
        access_rule_packages_add(owner=configuration.owner, reason=AccessRule.Reason.BOOKING,
                                 package_ids=package_ids)
        return set()  # their holders are the members just written, woken by the sync
    return configuration_rules_apply(configuration=configuration, booked_package_ids=package_ids)


@transaction.atomic
def configuration_delete(*, configuration: GlofoxConfiguration) -> None:
    """Delete a configuration and the access rules it owns (see signals for cascades)."""
    configuration.delete()


def configuration_rules_delete(*, configuration: GlofoxConfiguration) -> None:
    """Remove the rules a configuration owns and wake the door system for their holders."""
    changed = access_rules_delete(owner=configuration.owner)
    access_changed_notify(client_ids=changed, origin=None)
