"""What a manager sees in the admin: every page, the client page, soft delete, inline rules."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, ClientIdentity
from clients.services import client_delete, client_identity_set
from tests.factories import (
    ClientFactory,
    ClientPackageFactory,
    IdentityTypeFactory,
    LocationFactory,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
CHANGELIST = reverse("admin:clients_client_changelist")


def url(name: str, *args) -> str:
    return reverse(f"admin:clients_client_{name}", args=args)


def client_form(client: Client, identities=(), **fields) -> dict:
    """The POST a manager's browser sends from the client change form."""
    data = {
        "first_name": client.first_name, "last_name": client.last_name,
        "email": client.email, "phone": client.phone, "date_of_birth": "",
        "home_location": client.home_location_id or "", "is_active": "on",
        "alt_id": client.alt_id,
        "identities-TOTAL_FORMS": str(len(identities)),
        "identities-INITIAL_FORMS": str(sum(1 for i in identities if i.get("id"))),
        "packages-TOTAL_FORMS": "0", "packages-INITIAL_FORMS": "0",
    }
    for n, identity in enumerate(identities):
        data.update({
            f"identities-{n}-id": identity.get("id", ""),
            f"identities-{n}-client": client.pk or "",
            f"identities-{n}-identity_type": identity["identity_type"],
            f"identities-{n}-value": identity["value"],
        })
    data.update(fields)
    return data


@pytest.mark.parametrize(
    "model_admin", [a for _, a in REGISTERED], ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_changelist_and_add_page_renders(manager_client, rf, manager, model_admin):
    prefix = f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}"
    assert manager_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    request = rf.get("/")
    request.user = manager
    if model_admin.has_add_permission(request):
        assert manager_client.get(reverse(f"{prefix}_add")).status_code == 200


def test_client_change_page_shows_identity_and_package_inlines(manager_client):
    client = ClientFactory()
    client_identity_set(client=client, identity_type=IdentityTypeFactory(), value="CARD-77")
    ClientPackageFactory(client=client, package__name="Gold Monthly")
    page = manager_client.get(url("change", client.pk)).content.decode()
    assert 'name="identities-TOTAL_FORMS"' in page and "CARD-77" in page
    assert 'name="packages-TOTAL_FORMS"' in page and "Gold Monthly" in page


def test_search_finds_clients_by_name_email_and_identity(manager_client):
    ada = ClientFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    ClientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com")
    client_identity_set(client=ada, identity_type=IdentityTypeFactory(), value="FOB-9001")
    for term in ["Lovelace", "ada@example.com", "FOB-9001"]:
        shown = manager_client.get(CHANGELIST, {"q": term}).context["cl"].result_list
        assert list(shown) == [ada], term


def test_deleted_client_is_hidden_from_the_changelist_until_asked_for(manager_client):
    live, gone = ClientFactory(), ClientFactory()
    client_delete(client=gone)
    assert list(manager_client.get(CHANGELIST).context["cl"].result_list) == [live]
    deleted = manager_client.get(CHANGELIST, {"deleted": "yes"}).context["cl"].result_list
    assert list(deleted) == [gone]


def test_restore_action_brings_deleted_clients_back(manager_client):
    gone = client_delete(client=ClientFactory())
    response = manager_client.post(
        f"{CHANGELIST}?deleted=yes",
        {"action": "restore_clients", "_selected_action": [gone.pk]}, follow=True,
    )
    assert "Restored 1 client(s)." in response.content.decode()
    assert Client.objects.filter(pk=gone.pk, is_active=True).exists()


def test_admin_delete_view_keeps_the_client_row(manager_client):
    client = ClientFactory()
    response = manager_client.post(url("delete", client.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Client.objects.filter(pk=client.pk).exists()
    assert Client.all_objects.get(pk=client.pk).deleted_at is not None


def test_delete_selected_action_soft_deletes(manager_client):
    client = ClientFactory()
    manager_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [client.pk], "post": "yes"}
    )
    assert Client.all_objects.get(pk=client.pk).is_deleted


def test_inline_adding_two_identities_of_a_single_type_shows_an_error(manager_client):
    client = ClientFactory()
    card = IdentityTypeFactory(display_name="Card", max_per_client=1)
    data = client_form(client, identities=[
        {"identity_type": card.pk, "value": "C-1"}, {"identity_type": card.pk, "value": "C-2"},
    ])
    response = manager_client.post(url("change", client.pk), data)
    assert response.status_code == 200
    assert "at most 1 &#x27;Card&#x27; identity" in response.content.decode()
    assert not ClientIdentity.objects.exists()


def test_inline_adding_one_identity_saves_it(manager_client):
    client = ClientFactory()
    card = IdentityTypeFactory(max_per_client=1)
    data = client_form(client, identities=[{"identity_type": card.pk, "value": "C-1"}])
    assert manager_client.post(url("change", client.pk), data).status_code == 302
    assert list(client.identities.values_list("value", flat=True)) == ["C-1"]


def test_new_client_with_two_identities_of_a_single_type_is_not_saved(manager_client):
    card = IdentityTypeFactory(max_per_client=1)
    draft = ClientFactory.build(home_location=LocationFactory(), alt_id="")
    data = client_form(draft, identities=[
        {"identity_type": card.pk, "value": "C-1"}, {"identity_type": card.pk, "value": "C-2"},
    ])
    assert manager_client.post(url("add"), data).status_code == 200
    assert not Client.all_objects.exists() and not ClientIdentity.objects.exists()


def test_inline_change_too_early_is_refused_with_the_next_allowed_date(manager_client):
    client = ClientFactory()
    card = IdentityTypeFactory(min_days_between_changes=30)
    identity = client_identity_set(client=client, identity_type=card, value="C-1")
    data = client_form(client, identities=[
        {"id": identity.pk, "identity_type": card.pk, "value": "C-2"},
    ])
    page = manager_client.post(url("change", client.pk), data).content.decode()
    assert f"allowed from {identity.changed_at + timedelta(days=30):%Y-%m-%d %H:%M} UTC" in page
    assert ClientIdentity.objects.get(pk=identity.pk).value == "C-1"


def test_inline_change_after_the_period_restarts_the_clock(manager_client):
    client = ClientFactory()
    card = IdentityTypeFactory(min_days_between_changes=30)
    identity = client_identity_set(client=client, identity_type=card, value="C-1")
    ClientIdentity.objects.filter(pk=identity.pk).update(
        changed_at=timezone.now() - timedelta(days=31)
    )
    data = client_form(client, identities=[
        {"id": identity.pk, "identity_type": card.pk, "value": "C-2"},
    ])
    assert manager_client.post(url("change", client.pk), data).status_code == 302
    changed = ClientIdentity.objects.get(pk=identity.pk)
    assert changed.value == "C-2"
    assert timezone.now() - changed.changed_at < timedelta(minutes=1)


def test_adding_a_client_with_the_alt_id_of_a_deleted_one_shows_an_error(manager_client):
    client_delete(client=ClientFactory(alt_id="M-100"))
    draft = ClientFactory.build(home_location=LocationFactory(), alt_id="M-100")
    response = manager_client.post(url("add"), client_form(draft))
    assert response.status_code == 200
    assert "A deleted client has this alt ID; restore that client instead." in (
        response.content.decode()
    )
    assert Client.all_objects.filter(alt_id="M-100").count() == 1


def test_tags_edited_in_the_admin_are_logged_with_who_changed_them(manager_client, manager):
    from clients.models import ClientTagChange
    from tests.factories import TagFactory

    vip, members = TagFactory(name="vip"), TagFactory(name="members")
    client = ClientFactory()
    client.tags.add(vip)
    assert manager_client.post(url("change", client.pk), client_form(client, tags=[members.pk])).status_code == 302
    assert set(client.tags.values_list("name", flat=True)) == {"members"}
    logged = {(c.tag.name, c.action, c.reason) for c in ClientTagChange.objects.filter(client=client)}
    who = f"edited in the admin by {manager.get_username()}"
    assert logged == {("members", ClientTagChange.Action.ADD, who), ("vip", ClientTagChange.Action.REMOVE, who)}
    manager_client.post(url("change", client.pk), client_form(client, tags=[members.pk]))
    assert ClientTagChange.objects.filter(client=client).count() == 2  # saving again changes nothing
