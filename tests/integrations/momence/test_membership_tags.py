"""Momence membership tags -> the tags of the matching packages, with their origin in the admin."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accessctl.decisions import member_facts
from clients.models import Client, Tag
from integrations.models import SyncIssue, SyncRun
from packages.models import Package

pytestmark = pytest.mark.django_db
UNLIMITED = "momence_11"  # the sandbox catalogue's "Unlimited monthly"


def package_tags(alt_id: str = UNLIMITED) -> set[str]:
    return set(Package.objects.get(alt_id=alt_id).tags.values_list("name", flat=True))


def package_page(admin_client, alt_id: str = UNLIMITED) -> str:
    package = Package.objects.get(alt_id=alt_id)
    response = admin_client.get(f"/admin/packages/package/{package.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def tag_by_hand(admin_client, name: str, alt_id: str = UNLIMITED) -> None:
    """A manager adds a tag on the package's admin page."""
    package = Package.objects.get(alt_id=alt_id)
    tag, _ = Tag.objects.get_or_create(name=name)
    response = admin_client.post(f"/admin/packages/package/{package.pk}/change/", {
        "name": package.name, "alt_id": package.alt_id, "kind": package.kind, "credits": package.credits or "",
        "tags": [*package.tags.values_list("pk", flat=True), tag.pk], "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[-2000:]


def test_membership_tags_reach_the_package_and_the_admin_says_where_they_came_from(admin_client, sandbox, run):
    sandbox.membership_tags_set(11, [2, 3])  # door-access, vip
    result = run("memberships")
    assert result.status == SyncRun.Status.SUCCEEDED
    assert package_tags() == {"door-access", "vip"}
    assert package_tags("momence_12") == set()
    assert "The tags of 1 package(s) follow" in result.report
    page = package_page(admin_client)
    assert "<li>door-access: from Momence (Momence studio)</li>" in page
    assert "<li>vip: from Momence (Momence studio)</li>" in page
    tag_by_hand(admin_client, "front-desk")
    assert "<li>front-desk: added by hand</li>" in package_page(admin_client)


def test_a_tag_removed_at_momence_leaves_the_package_and_a_tag_added_by_hand_stays(admin_client, sandbox, run):
    sandbox.membership_tags_set(11, [2, 3])
    run("memberships")
    tag_by_hand(admin_client, "front-desk")
    sandbox.membership_tags_set(11, [3])  # door-access removed in Momence
    again = run("memberships")
    assert again.status == SyncRun.Status.SUCCEEDED
    assert package_tags() == {"vip", "front-desk"}
    page = package_page(admin_client)
    assert "door-access" not in page.split("Where its tags come from")[1]
    assert "<li>front-desk: added by hand</li>" in page and "<li>vip: from Momence (Momence studio)</li>" in page
    sandbox.membership_tags_set(11, [])
    run("memberships")
    assert package_tags() == {"front-desk"}


def test_a_tag_added_by_hand_that_momence_lists_too_stays_when_momence_drops_it(admin_client, sandbox, run):
    run("memberships")
    tag_by_hand(admin_client, "vip")
    sandbox.membership_tags_set(11, [3])
    run("memberships")
    assert "<li>vip: added by hand</li>" in package_page(admin_client)
    sandbox.membership_tags_set(11, [])
    run("memberships")
    assert package_tags() == {"vip"}


def test_a_membership_without_a_tags_field_leaves_its_package_alone_and_bad_tags_are_issues(sandbox, run):
    sandbox.membership_tags_set(11, [2])
    sandbox.membership_tags_set(12, [3])
    run("memberships")
    del sandbox.memberships[11]["tags"]  # a record that says nothing about its tags
    sandbox.memberships[12]["tags"] = "vip"
    result = run("memberships")
    assert package_tags() == {"door-access"} and package_tags("momence_12") == {"vip"}
    assert result.failed == 1 and SyncIssue.objects.get().record_key == "12"


def test_holders_of_a_tagged_membership_carry_the_tag_at_the_door(sandbox, run):
    sandbox.member_put(1001, firstName="Ada", lastName="Holder", lastSeen=datetime(2025, 5, 1, tzinfo=UTC))
    sandbox.bought_add(1001, 11, endDate=None)
    sandbox.membership_tags_set(11, [2])
    for name in ("members", "memberships", "bought-memberships"):
        run(name)
    client = Client.objects.get(external_id="1001")
    door_access = Tag.objects.get(name="door-access")
    assert door_access.pk in member_facts(client=client, at=timezone.now()).tag_ids
    sandbox.membership_tags_set(11, [])
    run("memberships")
    assert door_access.pk not in member_facts(client=client, at=timezone.now()).tag_ids
