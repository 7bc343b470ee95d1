"""The credit ledger: spends and refunds happen once each and never go below zero."""

import pytest
from django.core.exceptions import ValidationError

from packages.models import ClientPackage, CreditEntry
from packages.services import credits_refund, credits_spend
from tests.factories import ClientPackageFactory

pytestmark = pytest.mark.django_db


def balance(held: ClientPackage) -> int:
    return ClientPackage.objects.get(pk=held.pk).credits_remaining


@pytest.fixture
def pack():
    return ClientPackageFactory(credits_remaining=5, package__name="Ten Pack")


def test_spend_takes_credits_and_records_the_balance(pack):
    entry = credits_spend(client_package=pack, amount=2, reason="Spin", reference="booking:1")
    assert balance(pack) == 3 and pack.credits_remaining == 3
    assert (entry.change, entry.balance_after, entry.reason) == (-2, 3, "Spin")


def test_spend_happens_once_per_reference(pack):
    first = credits_spend(client_package=pack, amount=2, reason="Spin", reference="booking:1")
    again = credits_spend(client_package=pack, amount=2, reason="Spin", reference="booking:1")
    assert again.pk == first.pk
    assert balance(pack) == 3 and CreditEntry.objects.count() == 1


def test_spend_never_goes_below_zero(pack):
    with pytest.raises(ValidationError, match="Not enough credits on Ten Pack"):
        credits_spend(client_package=pack, amount=6, reason="Spin", reference="booking:1")
    assert balance(pack) == 5 and not CreditEntry.objects.exists()


def test_spend_can_use_the_last_credit(pack):
    credits_spend(client_package=pack, amount=5, reason="Spin", reference="booking:1")
    assert balance(pack) == 0


def test_spend_on_a_package_without_credits_is_refused():
    held = ClientPackageFactory(credits_remaining=None)
    with pytest.raises(ValidationError):
        credits_spend(client_package=held, amount=1, reason="Spin", reference="booking:1")
    assert balance(held) is None


def test_refund_gives_back_what_the_spend_took_once(pack):
    credits_spend(client_package=pack, amount=2, reason="Spin", reference="booking:1")
    refund = credits_refund(client_package=pack, reference="booking:1", reason="Cancelled")
    again = credits_refund(client_package=pack, reference="booking:1", reason="Cancelled")
    assert again.pk == refund.pk
    assert (refund.change, refund.balance_after) == (2, 5)
    assert balance(pack) == 5 and CreditEntry.objects.count() == 2


def test_refund_without_a_spend_gives_nothing(pack):
    assert credits_refund(client_package=pack, reference="booking:9", reason="Cancelled") is None
    assert balance(pack) == 5 and not CreditEntry.objects.exists()

