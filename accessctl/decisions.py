"""The decision a member gets at a door (reads only): by tag, by paying a visit, or refused.

Order: the door must be open to the app; a tag of the member's (their own or one an
active package gives) opens it; else, with paid access on, a visit type available now
in the location's time zone is paid from an eligible active package; last the geofence.
A member who may not open the door at all is told that, not how far away they are.

Which package pays: credit packs and subscriptions with a combined usage limit pay the
visit type's price in credits; unlimited subscriptions pay 0 credits; subscriptions
with separate usage limits (and plain memberships, pay-as-you-go) never pay, even when
listed. Of several ways to pay, the cheapest wins; then the package ending soonest.
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Prefetch, Q
from django.utils import timezone

from accessctl.models import Door, DoorRules, UnlockAttempt, VisitType
from clients.models import Client, Tag
from packages.models import ClientPackage, Package

EARTH_RADIUS_M = 6_371_008.8
PAYING_KINDS = {Package.Kind.CREDIT_PACK, Package.Kind.UNLIMITED, Package.Kind.COMBINED_LIMIT}
FREE_KINDS = {Package.Kind.UNLIMITED}
NOT_FROM_APP = "This door cannot be opened from the app."


@dataclass(frozen=True)
class Decision:
    """Whether a member may open a door now, how, at what cost, and why not."""

    allowed: bool
    reason: str
    method: str = ""  # UnlockAttempt.Method, empty when refused
    visit_type: VisitType | None = None
    client_package: ClientPackage | None = None
    credits: int = 0
    distance_m: float | None = None
    inside_geofence: bool | None = None  # None: no coordinates to tell; True without a geofence

    @property
    def entitled(self) -> bool:
        """Allowed, or refused only because the member is too far away (or gave no location)."""
        return bool(self.method)


@dataclass(frozen=True)
class MemberFacts:
    """What a decision needs to know about a member, read once."""

    tag_ids: frozenset[int]
    packages: tuple[ClientPackage, ...]  # active at the time asked, with their Package


def member_facts(*, client: Client, at: datetime) -> MemberFacts:
    """The member's tags (own and from active packages) and active packages at `at`."""
    packages = tuple(
        ClientPackage.objects.filter(client=client, status=ClientPackage.Status.ACTIVE, start__lte=at)
        .filter(Q(end__isnull=True) | Q(end__gt=at)).select_related("package").order_by("pk")
    )
    package_ids = {p.package_id for p in packages}
    tag_ids = Tag.objects.filter(Q(clients=client) | Q(packages__in=package_ids)).values_list("pk", flat=True)
    return MemberFacts(tag_ids=frozenset(tag_ids), packages=packages)


def doors_with_rules():
    """Doors with everything a decision reads about them, prefetched."""
    return Door.objects.select_related("location", "rules").prefetch_related(
        "rules__tags",
        Prefetch("visit_types", queryset=VisitType.objects.prefetch_related("availabilities", "packages")),
    )


def door_decide(
    *, client: Client, door: Door, latitude: float | None, longitude: float | None,
    at: datetime | None = None,
) -> Decision:
    """May `client` open `door` at `at` (default now) from these coordinates? With the reason."""
    at = at or timezone.now()
    door = doors_with_rules().get(pk=door.pk)
    return decision_for(door=door, facts=member_facts(client=client, at=at),
                        latitude=latitude, longitude=longitude, at=at)


def doors_decided(
    *, client: Client, latitude: float | None, longitude: float | None, at: datetime | None = None,
) -> list[tuple[Door, Decision]]:
    """Every door open to the app, with the member's decision: allowed, entitled or refused (and why)."""
    at = at or timezone.now()
    facts = member_facts(client=client, at=at)
    doors = doors_with_rules().filter(is_active=True).exclude(access_control=Door.AccessControl.DISABLED)
    return [(door, decision_for(door=door, facts=facts, latitude=latitude, longitude=longitude, at=at))
            for door in doors]


def doors_openable(
    *, client: Client, latitude: float | None, longitude: float | None, at: datetime | None = None,
) -> list[tuple[Door, Decision]]:
    """The doors the member may open now (or could, once close enough), with their decisions."""
    decided = doors_decided(client=client, latitude=latitude, longitude=longitude, at=at)
    return [(door, decision) for door, decision in decided if decision.entitled]


def door_tag_origin(*, client: Client, door: Door, at: datetime | None = None) -> str:
    """Why the member holds a tag that opens `door`: the package that gives it ("your Monthly
    membership"), a booking's tag loan ("your booking of Spin"), or their own tag; "" if none."""
    at = at or timezone.now()
    rules = getattr(door, "rules", None)
    opening = {tag.pk: tag.name for tag in rules.tags.all()} if rules is not None else {}
    facts = member_facts(client=client, at=at)
    for held in facts.packages:
        if held.package.tags.filter(pk__in=opening).exists():
            return f"your {held.package.name}"
    own = set(client.tags.filter(pk__in=opening).values_list("pk", flat=True))
    loan = (client.sequence_grants.filter(tag_id__in=own, removed_at__isnull=True)
            .order_by("session_start").first())
    if loan is not None:
        return f"your booking of {loan.session_name}"
    return f"your tag {opening[min(own)]}" if own else ""


def decision_for(
    *, door: Door, facts: MemberFacts, latitude: float | None, longitude: float | None, at: datetime,
) -> Decision:
    """The decision for a door read with doors_with_rules() and a member's facts."""
    rules = getattr(door, "rules", None)  # a door nobody set rules for has none
    if not door.is_active or door.access_control == Door.AccessControl.DISABLED or rules is None:
        return Decision(False, NOT_FROM_APP)
    distance, inside, too_far = _geofence(rules, door, latitude, longitude)
    if facts.tag_ids & {tag.pk for tag in rules.tags.all()}:
        decision = Decision(True, "Your tag opens this door.", UnlockAttempt.Method.TAG)
    elif rules.paid_access:
        decision = _paid_visit(door, facts, at)
    elif rules.tags.all():
        decision = Decision(False, "You do not have a tag that opens this door.")
    else:
        decision = Decision(False, NOT_FROM_APP)
    decision = replace(decision, distance_m=distance, inside_geofence=inside)
    if decision.allowed and too_far:
        return replace(decision, allowed=False, reason=too_far)
    return decision


def _paid_visit(door: Door, facts: MemberFacts, at: datetime) -> Decision:
    visit_types = list(door.visit_types.all())
    if not visit_types:
        return Decision(False, "Paid visits to this door are not set up yet.")
    local = timezone.localtime(at, door.location.zone)
    available = [vt for vt in visit_types if vt.is_available(local)]
    if not available:
        hours = "; ".join(f"{vt.name}: {vt.availability_summary()}" for vt in visit_types)
        return Decision(False, f"Paid visits to this door are not available now ({hours}, "
                               f"{door.location.time_zone} time).")
    options, short, unfit = [], [], []
    for vt in available:
        listed = {p.pk for p in vt.packages.all()}
        for held in facts.packages:
            if held.package_id not in listed:
                continue
            if held.package.kind not in PAYING_KINDS:
                unfit.append(held)
                continue
            cost = 0 if held.package.kind in FREE_KINDS else vt.price
            if cost > (held.credits_remaining or 0):
                short.append((vt, held))
                continue
            ends = held.end.timestamp() if held.end else math.inf
            options.append(((cost, ends, vt.price, vt.pk, held.pk), vt, held, cost))
    if options:
        _, vt, held, cost = min(options, key=lambda option: option[0])
        paid = (f"{_credits(cost)} from your {held.package.name}" if cost
                else f"covered by your {held.package.name}")
        return Decision(True, f"{vt.name}: {paid}.", UnlockAttempt.Method.PAYMENT, vt, held, cost)
    if short:
        vt, held = min(short, key=lambda pair: (pair[0].price, pair[1].pk))
        return Decision(False, f"Not enough credits: {vt.name} costs {_credits(vt.price)} and your "
                               f"{held.package.name} has {held.credits_remaining or 0} left.")
    names = sorted({p.name for vt in available for p in vt.packages.all() if p.kind in PAYING_KINDS})
    wanted = f" You need one of: {', '.join(names)}." if names else ""
    if unfit:
        return Decision(False, f"Your {unfit[0].package.name} cannot pay for visits to this door.{wanted}")
    return Decision(False, f"You have no membership or credits that pay for visits to this door.{wanted}")


def _geofence(rules: DoorRules, door: Door, latitude, longitude) -> tuple[float | None, bool | None, str]:
    """(distance in metres, inside?, the refusal when outside or unknown)."""
    centre = rules.centre()
    distance = None
    if centre is not None and latitude is not None and longitude is not None:
        distance = distance_m(centre, (float(latitude), float(longitude)))
    if not rules.geofence:
        return distance, True, ""
    radius = rules.radius_m
    if centre is None or not radius:
        return distance, None, "This door's position is not set up yet; please ask the club."
    limit = _length(radius, rules.geofence_unit)
    if distance is None:
        return None, None, f"Turn on location: this door opens within {limit} of {door.location}."
    if distance > radius:
        return distance, False, (f"You are {_length(distance, rules.geofence_unit)} away from "
                                 f"{door.location}; this door opens within {limit}.")
    return distance, True, ""


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle (haversine) distance in metres between two (latitude, longitude)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_text(*, metres: float, unit: str) -> str:
    """A distance as the door rules say it to members, in the door's unit ("3,648 ft", "1.2 km")."""
    return _length(metres, unit)


def _length(metres: float, unit: str) -> str:
    if unit == DoorRules.Unit.FEET:
        feet = metres / 0.3048
        return f"{feet / 5280:.1f} miles" if feet >= 5280 else f"{round(feet):,} ft"
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{round(metres):,} m"


def _credits(amount: int) -> str:
    return f"{amount} credit{'' if amount == 1 else 's'}"
