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
from functools import cached_property

from django.db import DEFAULT_DB_ALIAS
from django.db.models import DateTimeField, Exists, IntegerField, OuterRef, Q
from django.utils import timezone

from accessctl.models import Door, DoorRules, UnlockAttempt, VisitAvailability, VisitType
from accessctl.models.rules import windows_cover, windows_summary
from accessctl.prepared import Given, Prepared
from clients.models import Client, Location, Tag
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
    """A member's tags and active packages at one moment, read once (the decision itself reads
    only what the door asks about: see doors_for_member and _PaidFacts)."""

    tag_ids: frozenset[int]
    packages: tuple[ClientPackage, ...]  # active at the time asked, with their Package


@dataclass(frozen=True)
class Visit:
    """A door's visit type with its hours (the location's time zone)."""

    visit_type: VisitType
    windows: tuple[VisitAvailability, ...]


def _active_packages(*, client_id, at):
    return ClientPackage.objects.filter(client_id=client_id, status=ClientPackage.Status.ACTIVE,
                                        start__lte=at).filter(Q(end__isnull=True) | Q(end__gt=at))


def _member_holds(*, client_id, at, tag: str) -> Q:
    """The tag in field `tag` is the member's: their own, or one a package active at `at` gives."""
    own = Client.tags.through.objects.filter(client_id=client_id).values("tag_id")
    given = Package.tags.through.objects.filter(
        package_id__in=_active_packages(client_id=client_id, at=at).values("package_id")).values("tag_id")
    return Q(**{f"{tag}__in": own}) | Q(**{f"{tag}__in": given})


def member_packages(*, client: Client, at: datetime) -> tuple[ClientPackage, ...]:
    """The member's packages active at `at`, with their Package, oldest first."""
    return tuple(_active_packages(client_id=client.pk, at=at).select_related("package").order_by("pk"))


def member_facts(*, client: Client, at: datetime) -> MemberFacts:
    """The member's tags (own and from active packages) and active packages at `at`."""
    tag_ids = Tag.objects.filter(_member_holds(client_id=client.pk, at=at, tag="pk")).values_list("pk", flat=True)
    return MemberFacts(tag_ids=frozenset(tag_ids), packages=member_packages(client=client, at=at))


def _fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


DOOR_FIELDS, LOCATION_FIELDS, RULES_FIELDS = _fields(Door), _fields(Location), _fields(DoorRules)
VISIT_FIELDS, WINDOW_FIELDS = _fields(VisitType), _fields(VisitAvailability)
HELD_FIELDS, PACKAGE_FIELDS = _fields(ClientPackage), _fields(Package)


VISIT_ORDER = ["price", "name", "pk", "availabilities__start_time", "availabilities__pk"]
LOCATION_AT = len(DOOR_FIELDS)
RULES_AT = LOCATION_AT + len(LOCATION_FIELDS)
VISIT_AT = RULES_AT + len(RULES_FIELDS)
VISITS_END = VISIT_AT + len(VISIT_FIELDS) + len(WINDOW_FIELDS)


def doors_for_member(*, client_id, at, visits: bool):
    """Rows of doors with their location and rules, and (in the same query) whether they have
    tags and whether a tag the member holds at `at` opens them (read them with _doors_built).
    With `visits`, their visit types too (as _visits_query), one row per hour (or one alone): one
    round trip fewer for one door; for many, the planner's guess of rows times the tag checks can
    cost more than the query (PostgreSQL's JIT starts above a cost)."""
    door_tags = DoorRules.tags.through.objects.filter(doorrules__door_id=OuterRef("pk"))
    doors = Door.objects.annotate(
        tagged=Exists(door_tags),
        opens_by_tag=Exists(door_tags.filter(_member_holds(client_id=client_id, at=at, tag="tag_id"))),
    )
    fields = [*DOOR_FIELDS, *(f"location__{name}" for name in LOCATION_FIELDS),
              *(f"rules__{name}" for name in RULES_FIELDS)]
    if visits:
        doors = doors.order_by("location__name", "title", "pk", *(f"visit_types__{name}" for name in VISIT_ORDER))
        fields += [*(f"visit_types__{name}" for name in VISIT_FIELDS),
                   *(f"visit_types__availabilities__{name}" for name in WINDOW_FIELDS)]
    # The annotations come last: a values_list query selects its fields, then its annotations.
    return doors.values_list(*fields, "tagged", "opens_by_tag")


def _doors_built(rows, *, visits: bool) -> tuple[list[Door], dict[int, list[Visit]] | None]:
    """Doors from doors_for_member's rows, with their location and rules (None without), and
    with `visits` their visit types: (doors, {door id: visits} or None)."""
    doors: dict[int, Door] = {}
    for row in rows:
        if row[0] not in doors:
            doors[row[0]] = _door_built(row)
    return list(doors.values()), _visits_built(row[VISIT_AT:VISITS_END] for row in rows) if visits else None


def _door_built(row) -> Door:
    door = Door.from_db(DEFAULT_DB_ALIAS, DOOR_FIELDS, row[:LOCATION_AT])
    Door.location.field.set_cached_value(
        door, Location.from_db(DEFAULT_DB_ALIAS, LOCATION_FIELDS, row[LOCATION_AT:RULES_AT]))
    rules_row = row[RULES_AT:VISIT_AT]
    rules = None if rules_row[0] is None else DoorRules.from_db(DEFAULT_DB_ALIAS, RULES_FIELDS, rules_row)
    Door.rules.related.set_cached_value(door, rules)
    if rules is not None:
        DoorRules.door.field.set_cached_value(rules, door)
    door.tagged, door.opens_by_tag = row[-2:]
    return door


def _visits_query(*, doors):
    """Rows of the doors' visit types (by price, then name), one per hour (or one alone)."""
    return VisitType.objects.filter(door_id__in=doors).order_by("door_id", *VISIT_ORDER).values_list(
        *VISIT_FIELDS, *(f"availabilities__{name}" for name in WINDOW_FIELDS))


def _visits_built(rows) -> dict[int, list[Visit]]:
    """{door id: its visits} from rows of a visit type's fields and one of its hours' (None: none)."""
    types: dict[int, VisitType] = {}
    windows: dict[int, list[VisitAvailability]] = {}
    for row in rows:
        visit_id, window = row[0], row[len(VISIT_FIELDS):]
        if visit_id is None:  # a door without visit types
            continue
        if visit_id not in types:
            types[visit_id] = VisitType.from_db(DEFAULT_DB_ALIAS, VISIT_FIELDS, row[:len(VISIT_FIELDS)])
            windows[visit_id] = []
        if window[0] is not None:
            windows[visit_id].append(VisitAvailability.from_db(DEFAULT_DB_ALIAS, WINDOW_FIELDS, window))
    visits: dict[int, list[Visit]] = {}
    for visit_id, visit_type in types.items():
        visits.setdefault(visit_type.door_id, []).append(Visit(visit_type, tuple(windows[visit_id])))
    return visits


def _held_query(*, client_id, at, doors):
    """Rows of the member's active packages listed to pay the doors' visit types: (visit type id,
    the ClientPackage's fields, its Package's fields), oldest package first. `doors`: one door (a
    Given) or a subquery of doors."""
    lookup = "package__visit_types__door_id" if isinstance(doors, Given) else "package__visit_types__door_id__in"
    return _active_packages(client_id=client_id, at=at).filter(**{lookup: doors}).order_by("pk").values_list(
        "package__visit_types__id", *HELD_FIELDS, *(f"package__{name}" for name in PACKAGE_FIELDS))


def _held_built(rows) -> dict[int, list[ClientPackage]]:
    built: dict[int, ClientPackage] = {}  # a package listed by several visit types is built once
    held: dict[int, list[ClientPackage]] = {}
    for visit_id, *row in rows:
        client_package = built.get(row[0])
        if client_package is None:
            client_package = ClientPackage.from_db(DEFAULT_DB_ALIAS, HELD_FIELDS, row[:len(HELD_FIELDS)])
            client_package.package = Package.from_db(DEFAULT_DB_ALIAS, PACKAGE_FIELDS, row[len(HELD_FIELDS):])
            built[row[0]] = client_package
        held.setdefault(visit_id, []).append(client_package)
    return held


OPEN_TO_THE_APP = Q(is_active=True) & ~Q(access_control=Door.AccessControl.DISABLED)
# The decisions read prepared queries: one door's (the app's unlock, the portal's Open) and the
# door list's (every door open to the app; the visits of every paid door, the packages paying them).
_CLIENT, _AT, _DOOR = (Given("client", IntegerField()), Given("at", DateTimeField()),
                       Given("door", IntegerField()))
_ONE_DOOR = Prepared(lambda: doors_for_member(client_id=_CLIENT, at=_AT, visits=True).filter(pk=_DOOR))
_ONE_DOOR_HELD = Prepared(lambda: _held_query(client_id=_CLIENT, at=_AT, doors=_DOOR))
_APP_DOORS = Prepared(lambda: doors_for_member(client_id=_CLIENT, at=_AT, visits=False).filter(OPEN_TO_THE_APP))
_PAID_DOORS = Door.objects.filter(OPEN_TO_THE_APP, rules__paid_access=True).values("pk")
_APP_DOOR_VISITS = Prepared(lambda: _visits_query(doors=_PAID_DOORS))
_APP_DOOR_HELD = Prepared(lambda: _held_query(client_id=_CLIENT, at=_AT, doors=_PAID_DOORS))


class _PaidFacts:
    """What paying a visit needs, each part read on first use (the visits: with the door, given
    here) and once for all the doors asked about (`one_door`: the door of door_decide; else every
    door open to the app)."""

    def __init__(self, *, client: Client, at: datetime, doors: list[Door], visits: dict[int, list[Visit]] | None,
                 one_door: bool):
        self.client, self.at, self.one_door = client, at, one_door
        if visits is not None:
            self.visits = visits
        self.door_ids = [d.pk for d in doors if getattr(d, "rules", None) and d.rules.paid_access
                         and not d.opens_by_tag]

    def _rows(self, prepared: Prepared) -> list[tuple]:
        return prepared.rows(client=self.client.pk, at=self.at, door=self.door_ids[0] if self.one_door else None)

    @cached_property
    def visits(self) -> dict[int, list[Visit]]:
        return _visits_built(self._rows(_APP_DOOR_VISITS))

    @cached_property
    def held(self) -> dict[int, list[ClientPackage]]:
        """{visit type id: the member's active packages (with their Package) listed to pay it, oldest first}."""
        return _held_built(self._rows(_ONE_DOOR_HELD if self.one_door else _APP_DOOR_HELD))

    @cached_property
    def paying_names(self) -> dict[int, set[str]]:
        """{visit type id: names of the listed packages of a kind that pays} (for a refusal)."""
        names: dict[int, set[str]] = {}
        for visit_id, name in VisitType.packages.through.objects.filter(
                visittype__door_id__in=self.door_ids, package__kind__in=PAYING_KINDS,
        ).values_list("visittype_id", "package__name"):
            names.setdefault(visit_id, set()).add(name)
        return names


def door_decide(
    *, client: Client, door: Door, latitude: float | None, longitude: float | None,
    at: datetime | None = None,
) -> Decision:
    """May `client` open `door` at `at` (default now) from these coordinates? With the reason."""
    at = at or timezone.now()
    rows = _ONE_DOOR.rows(client=client.pk, at=at, door=door.pk)
    if not rows:
        raise Door.DoesNotExist("Door matching query does not exist.")
    (door,), visits = _doors_built(rows, visits=True)
    return _decision(door=door, paid=_PaidFacts(client=client, at=at, doors=[door], visits=visits, one_door=True),
                     latitude=latitude, longitude=longitude, at=at)


def doors_decided(
    *, client: Client, latitude: float | None, longitude: float | None, at: datetime | None = None,
) -> list[tuple[Door, Decision]]:
    """Every door open to the app, with the member's decision: allowed, entitled or refused (and why)."""
    at = at or timezone.now()
    doors, visits = _doors_built(_APP_DOORS.rows(client=client.pk, at=at), visits=False)
    paid = _PaidFacts(client=client, at=at, doors=doors, visits=visits, one_door=False)
    return [(door, _decision(door=door, paid=paid, latitude=latitude, longitude=longitude, at=at))
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


def _decision(
    *, door: Door, paid: _PaidFacts, latitude: float | None, longitude: float | None, at: datetime,
) -> Decision:
    """The decision for a door read with doors_for_member()."""
    rules = getattr(door, "rules", None)  # a door nobody set rules for has none
    if not door.is_active or door.access_control == Door.AccessControl.DISABLED or rules is None:
        return Decision(False, NOT_FROM_APP)
    distance, inside, too_far = _geofence(rules, door, latitude, longitude)
    if door.opens_by_tag:
        decision = Decision(True, "Your tag opens this door.", UnlockAttempt.Method.TAG)
    elif rules.paid_access:
        decision = _paid_visit(door, paid, at)
    elif door.tagged:
        decision = Decision(False, "You do not have a tag that opens this door.")
    else:
        decision = Decision(False, NOT_FROM_APP)
    decision = replace(decision, distance_m=distance, inside_geofence=inside)
    if decision.allowed and too_far:
        return replace(decision, allowed=False, reason=too_far)
    return decision


def _paid_visit(door: Door, paid: _PaidFacts, at: datetime) -> Decision:
    visits = paid.visits.get(door.pk, [])
    if not visits:
        return Decision(False, "Paid visits to this door are not set up yet.")
    local = timezone.localtime(at, door.location.zone)
    available = [v.visit_type for v in visits if windows_cover(v.windows, local)]
    if not available:
        hours = "; ".join(f"{v.visit_type.name}: {windows_summary(v.windows)}" for v in visits)
        return Decision(False, f"Paid visits to this door are not available now ({hours}, "
                               f"{door.location.time_zone} time).")
    options, short, unfit = [], [], []
    for vt in available:
        for held in paid.held.get(vt.pk, []):
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
        paid_with = (f"{_credits(cost)} from your {held.package.name}" if cost
                     else f"covered by your {held.package.name}")
        return Decision(True, f"{vt.name}: {paid_with}.", UnlockAttempt.Method.PAYMENT, vt, held, cost)
    if short:
        vt, held = min(short, key=lambda pair: (pair[0].price, pair[1].pk))
        return Decision(False, f"Not enough credits: {vt.name} costs {_credits(vt.price)} and your "
                               f"{held.package.name} has {held.credits_remaining or 0} left.")
    names = sorted(set().union(*(paid.paying_names.get(vt.pk, set()) for vt in available)))
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
