"""Reads about packages that need thought."""

from django.db.models import Q
from django.utils import timezone

from packages.models import Booking, ClientPackage, Package


def packages_by_alt_id() -> dict[str, int]:
    """Every package's id by its alt id (one query; syncs look packages up by alt id)."""
    return dict(Package.objects.values_list("alt_id", "id"))


def client_packages_active(*, client_id: int, now=None):
    """The client's packages in force now: active status, started, not ended."""
    now = now or timezone.now()
    return (
        ClientPackage.objects.filter(client_id=client_id, status=ClientPackage.Status.ACTIVE, start__lte=now)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .select_related("package", "location", "tier")
        .order_by("start", "pk")
    )


def bookings_upcoming(*, client_id: int, now=None, limit: int = 50):
    """The client's next bookings (booked or waiting) for classes not yet ended, soonest first."""
    now = now or timezone.now()
    return (
        Booking.objects.filter(client_id=client_id, session__end__gt=now,
                               status__in=[Booking.Status.BOOKED, Booking.Status.WAITING])
        .select_related("session", "session__location")
        .order_by("session__start", "pk")[:limit]
    )
