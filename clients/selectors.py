"""Reads about clients that need thought."""

from clients.models import Client, ClubSettings


def client_for_request(request) -> Client | None:
    """The live client an API request is made by, or None.

    clients.authentication.MemberTokenAuthentication makes `request.user` a Member
    wrapping the client; anything else (a staff session, no login) is no member.
    """
    client = getattr(getattr(request, "user", None), "client", None)
    if isinstance(client, Client) and client.deleted_at is None:
        return client
    return None


def club_settings() -> ClubSettings:
    """The club's settings members see (defaults until a manager saves them)."""
    return ClubSettings.objects.filter(pk=1).first() or ClubSettings()
