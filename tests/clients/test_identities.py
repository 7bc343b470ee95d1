"""The rules of Settings > Identities: how many per client, how often changed, unique values."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.models import ClientIdentity
from clients.services import client_identity_set
from tests.factories import ClientFactory, IdentityTypeFactory

pytestmark = pytest.mark.django_db


def test_set_identity_stores_it():
    client, card = ClientFactory(), IdentityTypeFactory(display_name="Card")
    client_identity_set(client=client, identity_type=card, value="C-1")
    assert list(client.identities.values_list("value", flat=True)) == ["C-1"]


def test_single_identity_type_changes_the_existing_value():
    client, card = ClientFactory(), IdentityTypeFactory(max_per_client=1)
    client_identity_set(client=client, identity_type=card, value="C-1")
    client_identity_set(client=client, identity_type=card, value="C-2")
    assert list(client.identities.values_list("value", flat=True)) == ["C-2"]


def test_service_refuses_more_identities_than_the_type_allows():
    client, fob = ClientFactory(), IdentityTypeFactory(display_name="Fob", max_per_client=2)
    client_identity_set(client=client, identity_type=fob, value="F-1")
    client_identity_set(client=client, identity_type=fob, value="F-2")
    with pytest.raises(ValidationError, match="at most 2 'Fob' identities"):
        client_identity_set(client=client, identity_type=fob, value="F-3")
    assert client.identities.count() == 2


def test_full_clean_refuses_a_second_identity_of_a_single_type():
    client, card = ClientFactory(), IdentityTypeFactory(display_name="Card", max_per_client=1)
    ClientIdentity.objects.create(client=client, identity_type=card, value="C-1")
    extra = ClientIdentity(client=client, identity_type=card, value="C-2")
    with pytest.raises(ValidationError) as caught:
        extra.full_clean()
    assert "at most 1 'Card' identity" in caught.value.message_dict["identity_type"][0]


def test_setting_the_same_value_again_changes_nothing():
    client, card = ClientFactory(), IdentityTypeFactory(min_days_between_changes=30)
    first = client_identity_set(client=client, identity_type=card, value="C-1")
    again = client_identity_set(client=client, identity_type=card, value="C-1")
    assert again.pk == first.pk and client.identities.count() == 1


def test_change_before_the_minimum_days_is_refused_naming_the_next_allowed_date():
    client = ClientFactory()
    card = IdentityTypeFactory(display_name="Card", min_days_between_changes=30)
    identity = client_identity_set(client=client, identity_type=card, value="C-1")
    next_allowed = identity.changed_at + timedelta(days=30)
    with pytest.raises(ValidationError) as caught:
        client_identity_set(client=client, identity_type=card, value="C-2")
    message = caught.value.message_dict["value"][0]
    assert "once every 30 days" in message
    assert f"allowed from {next_allowed:%Y-%m-%d %H:%M} UTC" in message
    assert ClientIdentity.objects.get(pk=identity.pk).value == "C-1"


def test_change_after_the_minimum_days_is_allowed_and_restarts_the_clock():
    client, card = ClientFactory(), IdentityTypeFactory(min_days_between_changes=30)
    identity = client_identity_set(client=client, identity_type=card, value="C-1")
    ClientIdentity.objects.filter(pk=identity.pk).update(
        changed_at=timezone.now() - timedelta(days=30, minutes=1)
    )
    changed = client_identity_set(client=client, identity_type=card, value="C-2")
    assert ClientIdentity.objects.get(pk=identity.pk).value == "C-2"
    assert timezone.now() - changed.changed_at < timedelta(minutes=1)
    with pytest.raises(ValidationError):
        client_identity_set(client=client, identity_type=card, value="C-3")


def test_full_clean_refuses_an_early_change_of_value():
    client, card = ClientFactory(), IdentityTypeFactory(min_days_between_changes=7)
    identity = client_identity_set(client=client, identity_type=card, value="C-1")
    identity.value = "C-2"
    with pytest.raises(ValidationError) as caught:
        identity.full_clean()
    assert "next change is allowed from" in caught.value.message_dict["value"][0]


def test_value_belongs_to_one_client_per_identity_type():
    card = IdentityTypeFactory()
    client_identity_set(client=ClientFactory(), identity_type=card, value="C-1")
    with pytest.raises(ValidationError):
        client_identity_set(client=ClientFactory(), identity_type=card, value="C-1")
    assert ClientIdentity.objects.filter(value="C-1").count() == 1


def test_same_value_is_allowed_under_another_identity_type():
    client = ClientFactory()
    client_identity_set(client=ClientFactory(), identity_type=IdentityTypeFactory(), value="7")
    client_identity_set(client=client, identity_type=IdentityTypeFactory(), value="7")
    assert ClientIdentity.objects.filter(value="7").count() == 2


def test_inactive_identity_type_cannot_be_used_for_a_new_identity():
    card = IdentityTypeFactory(display_name="Old card", is_active=False)
    with pytest.raises(ValidationError) as caught:
        client_identity_set(client=ClientFactory(), identity_type=card, value="C-1")
    assert "'Old card' is not active" in caught.value.message_dict["identity_type"][0]
    assert not ClientIdentity.objects.exists()
