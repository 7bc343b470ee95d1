"""Gatehouse's own member credentials: the app password of a client and its check.

The check costs exactly one password hash whatever happens (a known client, an unknown
identifier, a client without a password, an identifier several clients share), so its
timing tells nothing about accounts. Stored hashes have their own salts, so one hash
can be compared with one stored password only: an identifier must therefore name one
client to log in with a Gatehouse password. An e-mail a family shares is not a
Gatehouse login (each member uses their member number or an identity value); member
systems are still asked about it.
"""

from django.contrib.auth.hashers import check_password, make_password

from clients.models import Client, ClientIdentity


def identifier_normalise(identifier: str) -> str:
    """The form identifiers are compared in: trimmed, lower case."""
    return (identifier or "").strip().lower()


def clients_by_identifier(*, identifier: str, limit: int = 2) -> list[Client]:
    """Live clients with an app password whose e-mail, alt id or an identity value is
    `identifier` (at most `limit`: two tell one from several)."""
    value = identifier_normalise(identifier)
    if not value:
        return []
    with_password = Client.objects.exclude(password="")
    # A union of three index look-ups (client_login_email, client_login_alt_id,
    # identity_login_value): an OR across the identity join would read every client.
    matches = with_password.filter(email__iexact=value).values("pk").order_by().union(
        with_password.filter(alt_id__iexact=value).values("pk").order_by(),
        ClientIdentity.objects.filter(value__iexact=value, identity_type__is_active=True).values("client_id"),
    )
    # One query whether it finds none, one or several (their timing must not differ).
    return list(with_password.filter(pk__in=matches).order_by("pk")[:limit])


def client_password_set(*, client: Client, password: str | None) -> Client:
    """Set (hashed) or, with None, remove the client's Gatehouse app password."""
    client.password = make_password(password) if password is not None else ""
    Client.all_objects.filter(pk=client.pk).update(password=client.password)
    return client


def client_password_check(*, identifier: str, password: str) -> Client | None:
    """The client these Gatehouse credentials belong to, or None.

    Always exactly one password hash: against the one client `identifier` names, else
    (unknown, shared by several, no password given) of the password anyway, as Django's
    ModelBackend does, so unknown, shared and wrong take as long.
    """
    candidates = clients_by_identifier(identifier=identifier)
    if len(candidates) != 1 or not password:
        make_password(password or "-")  # the same work as a real check; result unused
        return None
    client = candidates[0]

    def upgrade(raw):  # a stronger hasher or more iterations since it was set
        client_password_set(client=client, password=raw)

    return client if check_password(password, client.password, upgrade) else None
