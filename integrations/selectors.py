"""Reads of integrations that other apps (staff, receivers) ask for."""

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from integrations.models import Integration


def integration_for_source(source: str, *, integration_id: int | None = None) -> Integration | None:
    """The integration a record came from, in one query; None for Gatehouse's own records
    and for an integration that is gone.

    A door access names it by its foreign key (`integration_id`), which wins; a client (or an
    older row) by its `source` key, matched whole against `Integration.source` in the
    database, never parsed, so "kisi-12" is never taken for "kisi-2" or for another kind's 12.
    """
    if integration_id is not None:
        return Integration.objects.filter(pk=integration_id).first()
    # Integration.source is f"{kind}-{pk}"; the same key built in SQL.
    key = Concat("kind", Value("-"), Cast("pk", CharField()), output_field=CharField())
    return Integration.objects.annotate(source_key=key).filter(source_key=source).first()
