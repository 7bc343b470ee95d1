"""The identity rules of Settings > Identities: how many per client, how often changed."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone


def identity_check(*, identity, pending_same_type: int = 0) -> None:
    """Raise ValidationError when saving `identity` would break its type's rules.

    `pending_same_type` counts other unsaved identities of the same type being added
    together (an admin inline adding two at once).
    """
    # The identity's own model: clients.models imports this module, so no import back.
    identities = type(identity).objects
    kind = identity.identity_type
    if not kind.is_active and identity.pk is None:
        raise ValidationError({"identity_type": f"The identity type '{kind}' is not active."})
    siblings = identities.filter(
        client_id=identity.client_id, identity_type=kind
    ).exclude(pk=identity.pk)
    if identity.pk is None and siblings.count() + 1 + pending_same_type > kind.max_per_client:
        raise ValidationError(
            {"identity_type": f"A client can have at most {kind.max_per_client} "
                              f"'{kind}' identit{'y' if kind.max_per_client == 1 else 'ies'}."}
        )
    if kind.min_days_between_changes:
        if identity.pk is not None:
            previous = identities.filter(pk=identity.pk).first()
            if previous is None or previous.value == identity.value:
                return
            last_change = previous.changed_at
        else:
            last_change = siblings.order_by("-changed_at").values_list(
                "changed_at", flat=True
            ).first()
        if last_change is None:
            return
        allowed_from = last_change + timedelta(days=kind.min_days_between_changes)
        if timezone.now() < allowed_from:
            raise ValidationError(
                {"value": f"'{kind}' can change once every {kind.min_days_between_changes} "
                          f"days; the next change is allowed from {allowed_from:%Y-%m-%d %H:%M} UTC."}
            )
