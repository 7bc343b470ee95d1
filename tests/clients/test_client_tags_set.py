"""Tags a member system owns, set in bulk: only its tags touched, local pairs kept, all logged."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import ClientTagChange, Tag
from clients.services import client_tags_set, tags_ensure
from tests.factories import ClientFactory, TagFactory

pytestmark = pytest.mark.django_db


def names(client) -> set[str]:
    return set(client.tags.values_list("name", flat=True))


def test_tags_ensure_creates_only_the_missing_ones():
    vip = TagFactory(name="vip")
    ids = tags_ensure(names=["vip", "door-access", " door-access ", ""])
    assert ids["vip"] == vip.pk and set(ids) == {"vip", "door-access"}
    assert Tag.objects.count() == 2


def test_managed_tags_follow_the_system_and_others_stay():
    ana, ben = ClientFactory(), ClientFactory()
    members, vip, staff, local = (TagFactory(name=n) for n in ("members", "vip", "staff", "gym-floor"))
    ana.tags.add(vip, local)
    ben.tags.add(members)
    changed = client_tags_set(tags={ana.pk: {members.pk}, ben.pk: {members.pk}},
                              managed={members.pk, vip.pk, staff.pk}, reason="vendor tags", source="momence-1")
    assert changed == {ana.pk}
    assert names(ana) == {"members", "gym-floor"} and names(ben) == {"members"}
    log = set(ClientTagChange.objects.values_list("client_id", "tag__name", "action", "source"))
    assert log == {(ana.pk, "members", "add", "momence-1"), (ana.pk, "vip", "remove", "momence-1")}


def test_kept_pairs_are_left_as_they_are():
    ana = ClientFactory()
    door, vip = TagFactory(name="door-access"), TagFactory(name="vip")
    ana.tags.add(door)
    changed = client_tags_set(tags={ana.pk: {vip.pk}}, managed={door.pk, vip.pk}, reason="vendor",
                              source="momence-1", keep={(ana.pk, door.pk), (ana.pk, vip.pk)})
    assert changed == set() and names(ana) == {"door-access"}


def test_a_constant_number_of_queries_whatever_the_page():
    tags = [TagFactory(name=f"t{n}") for n in range(5)]
    managed = {t.pk for t in tags}

    def page(size):
        clients = ClientFactory.create_batch(size)
        with CaptureQueriesContext(connection) as queries:
            client_tags_set(tags={c.pk: {tags[i % 5].pk, tags[(i + 1) % 5].pk} for i, c in enumerate(clients)},
                            managed=managed, reason="vendor", source="momence-1")
        return len(queries)

    assert page(3) == page(40)
