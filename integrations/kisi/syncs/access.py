"""The "access" sync: push to Kisi the difference between the access Gatehouse computes
(accessctl.selectors.access_expected) and the role assignments Kisi holds.

It runs in two phases of pages through the engine:

1. Users. Every client in scope who should have access, or whose home location is the
   location of a Kisi place, gets a Kisi user (never deleted): the user with exactly the
   client's email when Kisi has one, else a new managed user (no Kisi emails). Each
   page is linked in one bulk write (DoorSystemUser).
2. Role assignments. What Kisi holds is read for the groups active rules name (a
   group's list, 100 a call, the pages after the first read at once; or, for a handful
   of clients, each user's list), compared with what is expected, and only the
   difference is sent: a missing role is created with its window, one no longer
   expected is deleted, one whose window changed is replaced (a user holds one role
   per group). Groups no rule names, users Gatehouse did not create or map, and roles
   other than the basic one are never touched. The one exception: a group a rule
   named before (remembered in the sync's cursor) is still read until Gatehouse's
   roles in it are gone, so removing a rule or a configuration removes the access it
   gave.

Kisi calls are made while a page is prepared, outside any database transaction, so a
slow Kisi never holds one open: as many in flight as the "in_flight" setting, the next
page's already under way while this one is written, all at one pace and waiting together
when Kisi answers 429 (integrations.pacing.CallPool). A call Kisi refuses becomes a SyncIssue and the
run goes on. Counts are role assignments: created, updated (replaced or removed),
unchanged, failed.
"""

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, partial

from django.db.models import Q
from django.utils import timezone

from accessctl.models import DoorSystemUser, KisiGroup, KisiPlace
from accessctl.records import DoorSystemUserRecord
from accessctl.selectors import Window, access_expected
from accessctl.services import door_system_users_link
from clients.models import Client
from integrations.errors import BadRecord, PermanentError
from integrations.fetching import fetched_pages, forks_for
from integrations.kisi.client import PAGE_SIZE, KisiNotFound
from integrations.kisi.records import BASIC_ROLE, KisiUser, RoleAssignment
from integrations.sync import Counts, Page, SyncJob

logger = logging.getLogger("gatehouse.kisi")

WRITES_PER_PAGE = 1000  # calls answered per page written: few pages, as the database waits are costly
KEPT_PER_PAGE = 1000
FIND_ONE_BY_ONE = 10  # up to this many new users are always looked up one query each
READ_PER_USER = 20  # a run for at most this many clients reads each user's roles, not whole groups
IN_CHUNK = 5000  # ids per SQL IN list


@dataclass(frozen=True)
class UserLink:
    """A client's Kisi user, found or created now (or why there is none)."""

    client_id: int
    email: str
    external_id: str = ""
    created: bool = False
    problem: str = ""


@dataclass(frozen=True)
class Change:
    """One role assignment sent to Kisi (or kept): what was done, or why it failed."""

    action: str  # create, replace, delete, keep (read: a group that could not be read)
    user_id: str
    group_id: str
    valid_from: str | None = None
    valid_until: str | None = None
    problem: str = ""


def _seconds(moment):
    return moment.replace(microsecond=0) if moment is not None else None


def _same_window(assignment: RoleAssignment, window: Window) -> bool:
    return (_seconds(assignment.valid_from), _seconds(assignment.valid_until)) == (
        _seconds(window.valid_from), _seconds(window.valid_until))


def _email_key(need: tuple[int, str, str]) -> str:
    return need[1].lower()


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class AccessSync(SyncJob):
    """Reconcile Kisi with the access Gatehouse computes; options {"clients": [ids]} or everyone."""

    written_models = (DoorSystemUser,)  # their statistics are refreshed as a load grows

    @cached_property
    def tally(self) -> Counter:
        """What the run did, for its report."""
        return Counter()

    @property
    def source(self) -> str:
        return self.connector.integration.source

    @property
    def scope(self) -> list[int] | None:
        clients = self.options.get("clients")
        return None if clients is None else [int(c) for c in clients]

    def record_key(self, raw) -> str:
        if isinstance(raw, UserLink):
            return f"client-{raw.client_id}"
        return f"user-{raw.user_id}/group-{raw.group_id}" if raw.user_id else f"group-{raw.group_id}"

    def pages(self, cursor) -> Iterator[Page]:
        self.pool = self.connector.call_pool()
        kisi = self.connector.client(pool=self.pool)
        expected = self._expected()
        # The cursor remembers every group Gatehouse has managed, so a group whose rules
        # were removed still loses the roles they gave (on the next full run).
        remembered = set(cursor.get("groups", [])) if isinstance(cursor, dict) else set()
        self.named = dict(KisiGroup.objects.filter(rules__is_active=True).distinct().values_list("pk", "kisi_id"))
        self.managed = set(self.named.values()) | remembered
        self.missing: set[str] = set()  # groups Kisi no longer has
        self.unfinished: set[str] = set()  # groups where a change failed this run
        self.writer_clients = threading.local()
        with ThreadPoolExecutor(max_workers=self.pool.in_flight, thread_name_prefix="kisi-writer") as self.writers:
            yield from self._user_pages(kisi, expected)
            yield from self._assignment_pages(kisi, expected)
        yield Page([], cursor=self._memory(final=True))

    def _memory(self, *, final: bool = False) -> dict:
        """The groups to read next time: all managed ones, trimmed once a full run is through."""
        named = set(self.named.values())
        if not final:
            return {"groups": sorted(self.managed)}
        others = self.managed - named - self.missing
        if self.scope is None:
            others &= self.unfinished
        return {"groups": sorted(named | others)}

    def _each(self, send, items: list, *, key=None) -> Iterator[list]:
        """`send(kisi, *item)` for every item, answered WRITES_PER_PAGE at a time: the writers
        (each with its own session) already send the next chunk's calls while the caller
        writes this chunk's page, in more than one process for a large run
        (integrations.fetching); items with the same `key(item)` are sent from one process."""
        local = self.writer_clients

        def call(item):
            if not hasattr(local, "kisi"):
                local.kisi = self.connector.client(pool=self.pool)
            return send(local.kisi, *item)

        forks = forks_for(len(items), in_flight=self.pool.in_flight, key=key, share=self.pool)
        return fetched_pages(self.writers, call, _chunks(items, WRITES_PER_PAGE), forks=forks)

    def map(self, raw):
        if raw.problem:
            payload = {"client_id": raw.client_id, "email": raw.email} if isinstance(raw, UserLink) else {
                "action": raw.action, "user_id": raw.user_id, "group_id": raw.group_id}
            raise BadRecord(raw.problem, key=self.record_key(raw), payload=payload)
        return raw

    def apply(self, records) -> Counts:
        links = [r for r in records if isinstance(r, UserLink)]
        if links:
            door_system_users_link(system=self.source, records=[
                DoorSystemUserRecord(client_id=r.client_id, external_id=r.external_id, email=r.email)
                for r in links])
        counts = Counts()
        for record in records:
            if isinstance(record, UserLink):
                self.tally["users created" if record.created else "users found"] += 1
                continue
            self.tally[record.action] += 1
            if record.action == "create":
                counts.created += 1
            elif record.action == "keep":
                counts.unchanged += 1
            else:
                counts.updated += 1
        return counts

    def finish(self, run) -> None:
        t = self.tally
        run.report = (
            f"Kisi users: {t['users created']} created, {t['users found']} found by email. "
            f"Role assignments: {t['create']} created, {t['replace']} replaced, {t['delete']} removed, "
            f"{t['keep']} unchanged, {run.failed} failed."
            + (f" Kisi asked to wait {self.pool.waits} time(s)." if getattr(self, "pool", None) and self.pool.waits
               else "")
        )

    # what should be -----------------------------------------------------------
    def _expected(self) -> dict[int, dict[int, Window]]:
        expected = access_expected(client_ids=self.scope, now=timezone.now())
        deleted = set(Client.all_objects.filter(deleted_at__isnull=False).values_list("pk", flat=True))
        return {client_id: groups for client_id, groups in expected.items() if client_id not in deleted}

    # phase 1: users -------------------------------------------------------------
    def _clients_needing_users(self, expected) -> list[tuple[int, str, str]]:
        """(client id, email, name) of clients in scope that need a Kisi user and have none."""
        linked = DoorSystemUser.objects.filter(system=self.source)
        mapped_locations = KisiPlace.objects.filter(location__isnull=False).values("location_id")
        fields = ("pk", "email", "first_name", "last_name")
        if self.scope is not None:
            rows = list(Client.objects.filter(pk__in=self.scope)
                        .filter(Q(pk__in=list(expected)) | Q(home_location_id__in=mapped_locations))
                        .exclude(pk__in=linked.values("client_id")).values_list(*fields))
        else:
            known = set(linked.values_list("client_id", flat=True))
            missing = [c for c in expected if c not in known]
            rows = list(Client.objects.filter(home_location_id__in=mapped_locations)
                        .exclude(pk__in=linked.values("client_id")).values_list(*fields))
            for chunk in _chunks(missing, IN_CHUNK):
                rows += Client.objects.filter(pk__in=chunk).values_list(*fields)
        unique = {pk: (pk, (email or "").strip(), f"{first} {last}".strip())
                  for pk, email, first, last in rows}
        return [unique[pk] for pk in sorted(unique)]

    def _user_pages(self, kisi, expected) -> Iterator[Page]:
        needs = self._clients_needing_users(expected)
        directory: dict[str, KisiUser] | None = None
        # Read Kisi's whole user list (one call per 100 users; ours approximate its size)
        # only when that costs fewer calls than one query per new user.
        list_calls = DoorSystemUser.objects.filter(system=self.source).count() // PAGE_SIZE + 1
        if sum(1 for _, email, _ in needs if email) > max(FIND_ONE_BY_ONE, list_calls):
            directory = {u.email.strip().lower(): u for page in kisi.users() for u in page if u.email}
        claimed: set[str] = set()
        # One process sends every user of an email, so the directory it updates is the one it reads.
        for links in self._each(partial(self._user_link, directory=directory), needs, key=_email_key):
            ids = [link.external_id for link in links if link.external_id]
            taken = claimed | set(DoorSystemUser.objects.filter(system=self.source, external_id__in=ids)
                                  .values_list("external_id", flat=True))
            checked = []
            for link in links:
                if link.external_id and link.external_id in taken:
                    link = UserLink(link.client_id, link.email, problem=(
                        f"Kisi user {link.external_id} ({link.email}) already belongs to another client "
                        "with the same email; give this client its own email."))
                elif link.external_id:
                    taken.add(link.external_id)
                checked.append(link)
            claimed = taken
            yield Page(checked, cursor=self._memory(), total=len(needs))

    def _user_link(self, kisi, client_id: int, email: str, name: str, *, directory) -> UserLink:
        if not email:
            return UserLink(client_id, "", problem="The client has no email; Kisi needs one to make a user.")
        try:
            user = directory.get(email.lower()) if directory is not None else kisi.user_find(email)
            created = user is None
            if created:
                user = kisi.user_create(email=email, name=name or email)
                if directory is not None:
                    directory[email.lower()] = user
        except PermanentError as refused:
            return UserLink(client_id, email, problem=f"Kisi refused the user: {refused}")
        return UserLink(client_id, email, user.id, created=created)

    # phase 2: role assignments ------------------------------------------------------
    def _assignment_pages(self, kisi, expected) -> Iterator[Page]:
        groups = self.named
        users = DoorSystemUser.objects.filter(system=self.source)
        if self.scope is not None:
            users = users.filter(client_id__in=self.scope)
        user_of = dict(users.values_list("client_id", "external_id"))
        want = {(user_of[client_id], groups[group_pk]): window
                for client_id, access in expected.items() if client_id in user_of
                for group_pk, window in access.items() if group_pk in groups}
        held = self._held(kisi, self.managed, set(user_of.values()))
        kept, writes = [], []
        for key in sorted(want.keys() | held.keys()):
            for change in self._plan(key, want.get(key), held.get(key, [])):
                (kept if change[0] == "keep" else writes).append(change)
        self._check_groups(kisi, {change[2] for change in writes if change[3] is not None})
        writes = [change for change in writes if change[2] not in self.missing]
        kept = [change for change in kept if change[2] not in self.missing]
        gone = sorted(self.missing & set(groups.values()))
        if gone:
            yield Page([Change("read", "", group_id, problem=(
                f"Kisi has no group {group_id} any more, but an access rule names it; point the rule at "
                "an existing group and sync doors.")) for group_id in gone], cursor=self._memory())
        for chunk in _chunks(kept, KEPT_PER_PAGE):
            yield Page([Change("keep", user_id, group_id) for _, user_id, group_id, *_ in chunk],
                       cursor=self._memory())
        for sent in self._each(self._send, writes):
            self.unfinished |= {change.group_id for change in sent if change.problem}
            yield Page(sent, cursor=self._memory())

    def _check_groups(self, kisi, group_ids: set[str]) -> None:
        """Before giving roles in groups, make sure Kisi still has them (one call per 100 groups)."""
        if group_ids:
            found = {g.id for page in kisi.groups(ids=sorted(group_ids)) for g in page.records}
            self.missing |= group_ids - found

    def _held(self, kisi, group_ids: set[str], user_ids: set[str]) -> dict[tuple, list[RoleAssignment]]:
        """What Kisi holds in the managed groups for our users, by (user id, group id)."""
        held = defaultdict(list)
        if not group_ids or not user_ids:
            return held
        if self.scope is not None and len(user_ids) <= READ_PER_USER:
            found = [a for user_id in sorted(user_ids) for a in kisi.user_assignments(user_id)]
        else:
            found = []
            for group_id in sorted(group_ids):
                try:
                    found += self._group_held(kisi, group_id)
                except KisiNotFound:
                    logger.warning("kisi group %s no longer exists; its roles are left alone", group_id)
                    self.missing.add(group_id)
        for assignment in found:
            if assignment.group_id in group_ids and assignment.user_id in user_ids:
                held[(assignment.user_id, assignment.group_id)].append(assignment)
        return held

    def _group_held(self, kisi, group_id: str) -> list[RoleAssignment]:
        """A group's role assignments: the first page tells how many there are, and the
        writers read the other pages at once (one after another when Kisi tells no total)."""
        first = kisi.group_assignments_page(group_id)
        if first.total is None:
            return [a for page in kisi.group_assignments(group_id) for a in page]
        found, step = list(first.records), first.next_offset
        if not step:
            return found
        offsets = [(group_id, offset) for offset in range(step, first.total, step)]
        for pages in self._each(self._group_page, offsets):
            found += [a for page in pages for a in page.records]
        return found

    @staticmethod
    def _group_page(kisi, group_id: str, offset: int):
        return kisi.group_assignments_page(group_id, offset=offset)

    @staticmethod
    def _plan(key, window: Window | None, have: list[RoleAssignment]) -> list[tuple]:
        """The calls that make Kisi hold `window` for (user, group): (action, user, group, window, held)."""
        user_id, group_id = key
        if any(a.role_id != BASIC_ROLE for a in have):
            # Someone gave this user another role in the group (e.g. manager): not ours.
            return [("keep", user_id, group_id, window, None)] if window is not None else []
        if window is None:
            return [("delete", user_id, group_id, None, a) for a in have]
        same = next((a for a in have if _same_window(a, window)), None)
        if same is not None:
            return ([("keep", user_id, group_id, window, same)]
                    + [("delete", user_id, group_id, None, a) for a in have if a is not same])
        if not have:
            return [("create", user_id, group_id, window, None)]
        return ([("delete", user_id, group_id, None, a) for a in have[1:]]
                + [("replace", user_id, group_id, window, have[0])])

    @staticmethod
    def _send(kisi, action: str, user_id: str, group_id: str, window: Window | None,
              held: RoleAssignment | None) -> Change:
        shown = (window.valid_from.isoformat() if window and window.valid_from else None,
                 window.valid_until.isoformat() if window and window.valid_until else None)
        try:
            if held is not None:
                kisi.assignment_delete(held.id)
            if window is not None:
                kisi.assignment_create(user_id=user_id, group_id=group_id, valid_from=window.valid_from,
                                       valid_until=window.valid_until)
        except PermanentError as refused:
            return Change(action, user_id, group_id, *shown,
                          problem=f"Kisi refused to {action} it: {refused}")
        return Change(action, user_id, group_id, *shown)
