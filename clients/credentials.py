"""Gatehouse's own member credentials: the app password of a client and its check.

The check costs one password hash whatever happens (a known client, an unknown
identifier, a client without a password), so its timing tells nothing about accounts.
"""

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Q

from clients.models import Client

# A client whose identifier is shared (a family e-mail) is checked against each, up to this.
MAX_CANDIDATES = 3


def identifier_normalise(identifier: str) -> str:
    """The form identifiers are compared in: trimmed, lower case."""
    return (identifier or "").strip().lower()


def clients_by_identifier(*, identifier: str) -> list[Client]:
    """Live clients with an app password whose e-mail, alt id or an identity value is `identifier`."""
    value = identifier_normalise(identifier)
    if not value:
        return []
    match = (
        Q(email__iexact=value) | Q(alt_id__iexact=value)
        | Q(identities__value__iexact=value, identities__identity_type__is_active=True)
    )
    ids = Client.objects.filter(match).exclude(password="").values_list("pk", flat=True).distinct()
    return list(Client.objects.filter(pk__in=list(ids[:MAX_CANDIDATES])).order_by("pk"))


def client_password_set(*, client: Client, password: str | None) -> Client:
    """Set (hashed) or, with None, remove the client's Gatehouse app password."""
    client.password = make_password(password) if password is not None else ""
    Client.all_objects.filter(pk=client.pk).update(password=client.password)
    return client


def client_password_check(*, identifier: str, password: str) -> Client | None:
    """The client these Gatehouse credentials belong to, or None.

    Always runs at least one password hash: for an unknown identifier the password is
    hashed anyway, as Django's ModelBackend does, so unknown and wrong take as long.
    """
    candidates = clients_by_identifier(identifier=identifier)
    if not candidates or not password:
        make_password(password or "-")  # the same work as a real check; result unused
        return None
    found = None
    for client in candidates:

        def upgrade(raw, client=client):  # a stronger hasher or more iterations since it was set
            client_password_set(client=client, password=raw)

        if check_password(password, client.password, upgrade) and found is None:
            found = client
    return found
