"""Validation a manager meets when saving locations, tiers and clients."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from clients.models import Client, Location, LocationTier
from clients.services import client_delete, client_restore
from tests.factories import ClientFactory, LocationFactory

pytestmark = pytest.mark.django_db


def errors_of(instance) -> dict:
    """The per-field errors full_clean reports for `instance` (empty when valid)."""
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_location_alt_id_is_unique():
    LocationFactory(alt_id="LON1")
    assert "alt_id" in errors_of(Location(name="Other", alt_id="LON1"))


def test_location_time_zone_must_be_iana():
    errors = errors_of(LocationFactory.build(time_zone="Mars/Olympus"))
    assert "is not an IANA time zone" in errors["time_zone"][0]


def test_location_accepts_an_iana_time_zone():
    assert errors_of(LocationFactory.build(time_zone="America/New_York")) == {}


@pytest.mark.parametrize(("latitude", "longitude", "bad_field"), [
    ("90.000001", "0", "latitude"),
    ("-90.5", "0", "latitude"),
    ("0", "180.5", "longitude"),
    ("0", "-181", "longitude"),
])
def test_location_coordinates_out_of_bounds_are_refused(latitude, longitude, bad_field):
    location = LocationFactory.build(latitude=latitude, longitude=longitude)
    assert list(errors_of(location)) == [bad_field]


def test_location_coordinates_on_the_bounds_are_accepted():
    assert errors_of(LocationFactory.build(latitude="-90", longitude="180")) == {}


@pytest.mark.parametrize("alt_id", ["00", "09", "0A", "0Z"])
def test_tier_alt_id_zero_then_digit_or_capital_is_valid(alt_id):
    assert errors_of(LocationTier(name="Tier", alt_id=alt_id)) == {}


@pytest.mark.parametrize("alt_id", ["1A", "A0", "0a", "000", "0", "0-"])
def test_tier_alt_id_of_another_shape_is_refused(alt_id):
    assert "alt_id" in errors_of(LocationTier(name="Tier", alt_id=alt_id))


def test_client_alt_id_is_unique_when_set():
    ClientFactory(alt_id="M-100")
    assert "__all__" in errors_of(ClientFactory.build(alt_id="M-100", home_location=None))
    with pytest.raises(IntegrityError):
        ClientFactory(alt_id="M-100")


def test_clients_may_share_a_blank_alt_id():
    ClientFactory(alt_id="")
    ClientFactory(alt_id="")
    assert Client.objects.filter(alt_id="").count() == 2


def test_client_source_and_external_id_are_unique_together():
    ClientFactory(source="perfectgym", external_id="42")
    duplicate = ClientFactory.build(source="perfectgym", external_id="42", home_location=None)
    assert "__all__" in errors_of(duplicate)
    assert errors_of(ClientFactory.build(source="glofox", external_id="42", home_location=None)) == {}


def test_deleted_client_leaves_the_live_list_but_is_kept():
    client = ClientFactory()
    client_delete(client=client)
    assert not Client.objects.filter(pk=client.pk).exists()
    kept = Client.all_objects.get(pk=client.pk)
    assert kept.is_deleted and not kept.is_active


def test_restored_client_is_live_and_active_again():
    client = client_delete(client=ClientFactory())
    client_restore(client=client)
    restored = Client.objects.get(pk=client.pk)
    assert restored.deleted_at is None and restored.is_active


def test_deleted_client_keeps_its_alt_id_taken():
    client_delete(client=ClientFactory(alt_id="M-100"))
    errors = errors_of(ClientFactory.build(alt_id="M-100", home_location=None))
    assert errors["alt_id"] == ["A deleted client has this alt ID; restore that client instead."]


def test_deleted_client_keeps_its_source_and_external_id_taken():
    client_delete(client=ClientFactory(source="perfectgym", external_id="42"))
    clash = ClientFactory.build(source="perfectgym", external_id="42", home_location=None)
    assert errors_of(clash) == {"__all__": ["A deleted client has this source and external ID."]}


def test_restored_client_passes_its_own_validation():
    client = client_delete(client=ClientFactory(alt_id="M-100", external_id="42"))
    assert errors_of(client) == {}
