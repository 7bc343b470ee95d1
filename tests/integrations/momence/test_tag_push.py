"""Tags Gatehouse's sequences set -> assigned and unassigned at Momence, each change once."""

import pytest

from clients.models import Client, Tag
from clients.services import client_tags_change
from integrations.models import Delivery, SyncRun
from tests.factories import ClientFactory, TagFactory
from tests.integrations.momence.conftest import calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio(sandbox, run):
    sandbox.member_put(1001, firstName="Ana", lastName="Lee", tags=[1])
    sandbox.member_put(1002, firstName="Ben", lastName="Okafor", tags=[])
    run("tags")
    run("members")
    run("tag-push")  # the cursor starts; nothing of Gatehouse's own to send yet
    return sandbox


def sequence(name: str, *external_ids: str, add: bool = True) -> set[int]:
    clients = Client.objects.filter(external_id__in=external_ids).values_list("pk", flat=True)
    return client_tags_change(client_ids=set(clients), tag=Tag.objects.get(name=name), add=add,
                              reason="Sequence: Personal Training", source="sequence")


def pushes(sandbox) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in sandbox.calls if "/tags/" in c.path]


def test_tag_added_by_a_sequence_is_assigned_at_momence_once(studio, run):
    assert pushes(studio) == []  # Momence's own tags are never echoed back
    sequence("door-access", "1001", "1002")
    result = run("tag-push")
    assert (result.status, result.created, result.updated) == (SyncRun.Status.SUCCEEDED, 2, 2)
    assert sorted(pushes(studio)) == [("POST", "host/members/1001/tags/2"), ("POST", "host/members/1002/tags/2")]
    assert studio.member_tag_ids(1002) == {2}
    run("tag-push")
    run("members")  # Momence now agrees: nothing flips back
    run("tag-push")
    assert len(pushes(studio)) == 2
    assert set(Client.objects.get(external_id="1002").tags.values_list("name", flat=True)) == {"door-access"}


def test_tag_removed_after_the_visit_is_unassigned_once(studio, run):
    sequence("door-access", "1001")
    run("tag-push")
    sequence("door-access", "1001", add=False)
    run("tag-push")
    run("tag-push")
    assert pushes(studio) == [("POST", "host/members/1001/tags/2"), ("DELETE", "host/members/1001/tags/2")]
    assert studio.member_tag_ids(1001) == {1}
    assert Delivery.objects.get(kind="tag_push").state == "sent"


def test_add_then_remove_before_a_run_sends_only_the_latest(studio, run):
    sequence("door-access", "1002")
    sequence("door-access", "1002", add=False)
    run("tag-push")
    assert pushes(studio) == [("DELETE", "host/members/1002/tags/2")]  # 404 there: already without it
    assert Delivery.objects.get(kind="tag_push").state == "sent"


def test_only_this_integrations_clients_and_momences_tags_are_pushed(studio, run):
    other = ClientFactory(source="glofox-9", external_id="g1")
    client_tags_change(client_ids={other.pk}, tag=Tag.objects.get(name="door-access"), add=True,
                       reason="Sequence", source="sequence")
    gym_floor = TagFactory(name="gym-floor")
    client_tags_change(client_ids={Client.objects.get(external_id="1001").pk}, tag=gym_floor, add=True,
                       reason="Sequence", source="sequence")
    run("tag-push")
    assert pushes(studio) == [] and not Delivery.objects.exists()


def test_failed_push_is_retried_on_the_next_run(studio, run):
    studio.inject(status=503, times=5, path="tags/2")
    sequence("door-access", "1001")
    failed = run("tag-push")
    push = Delivery.objects.get(kind="tag_push")
    assert (failed.status, failed.failed, push.state, push.attempts) == (SyncRun.Status.SUCCEEDED, 1, "failed", 1)
    assert "503" in push.last_error
    run("tag-push")
    push.refresh_from_db()
    assert (push.state, push.attempts) == ("sent", 2) and studio.member_tag_ids(1001) == {1, 2}


def test_push_for_a_member_momence_does_not_have_is_given_up(studio, run):
    sequence("door-access", "1001")
    studio.member_delete(1001)
    run("tag-push")
    run("tag-push")
    push = Delivery.objects.get(kind="tag_push")
    assert (push.state, push.attempts) == ("gave_up", 1) and "404" in push.last_error
    assert len(calls(studio, "POST", "tags/2")) == 1


def test_switched_off_nothing_is_sent(studio, run, integration):
    integration.settings["push_tags"] = False
    integration.save()
    sequence("door-access", "1001")
    run("tag-push")
    integration.settings["push_tags"] = True
    integration.save()
    run("tag-push")
    assert pushes(studio) == []  # changes made while it was off stay Gatehouse's


def test_a_tag_a_manager_sets_in_the_admin_is_assigned_at_momence(studio, run, manager_client):
    """A staff edit of a client's tags is logged like a sequence's, so it reaches Momence."""
    from django.urls import reverse

    from tests.clients.test_admin import client_form

    ben = Client.objects.get(external_id="1002")
    door_access = Tag.objects.get(name="door-access")
    answer = manager_client.post(reverse("admin:clients_client_change", args=[ben.pk]),
                                 client_form(ben, tags=[door_access.pk]))
    assert answer.status_code == 302
    run("tag-push")
    assert pushes(studio) == [("POST", "host/members/1002/tags/2")]
    assert studio.member_tag_ids(1002) == {2}
