"""Validation of client packages and class sessions."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from packages.models import ClientPackage
from tests.factories import ClassSessionFactory, ClientPackageFactory

pytestmark = pytest.mark.django_db


def errors_of(instance) -> dict:
    """The per-field errors full_clean reports for `instance` (empty when valid)."""
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_client_package_ending_before_it_starts_is_refused():
    held = ClientPackageFactory()
    held.end = held.start - timedelta(minutes=1)
    assert errors_of(held) == {"__all__": ["The end must not be before the start."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        held.save()


def test_client_package_may_end_when_it_starts_or_never():
    held = ClientPackageFactory()
    assert errors_of(held) == {}
    held.end = held.start
    assert errors_of(held) == {}


def test_client_package_credits_cannot_go_negative():
    held = ClientPackageFactory(credits_remaining=0)
    held.credits_remaining = -1
    assert list(errors_of(held)) == ["credits_remaining"]
    with pytest.raises(IntegrityError), transaction.atomic():
        held.save()


def test_client_package_alt_id_is_unique_per_source():
    ClientPackageFactory(source="gladstone", alt_id="SUB-1")
    duplicate = ClientPackageFactory.build(
        source="gladstone", alt_id="SUB-1", client=ClientPackageFactory().client,
        package=ClientPackageFactory().package,
    )
    assert "__all__" in errors_of(duplicate)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_client_package_alt_id_may_repeat_across_sources_or_when_blank():
    ClientPackageFactory(source="gladstone", alt_id="SUB-1")
    ClientPackageFactory(source="glofox", alt_id="SUB-1")
    ClientPackageFactory(source="gladstone", alt_id="")
    ClientPackageFactory(source="gladstone", alt_id="")
    assert ClientPackage.objects.count() == 4


@pytest.mark.parametrize("length", [timedelta(0), timedelta(minutes=-5)])
def test_class_session_must_end_after_it_starts(length):
    start = timezone.now()
    session = ClassSessionFactory.build(location=ClassSessionFactory().location, start=start,
                                        end=start + length)
    assert errors_of(session) == {"__all__": ["A class must end after it starts."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        session.save()
