"""`field__any=[...]`: the IN of a page's worth of keys, bound as one array on PostgreSQL.

`IN (%s, %s, ...)` makes the driver quote and splice every value into the SQL text (the
project binds parameters client-side); `= ANY(%s)` sends one array instead, several
times cheaper for the 500 keys of a sync page. Other databases get a plain IN.

Keys are mostly plain str for char and text fields and plain int for integer and key
fields; for those Django's per-value preparation returns the value itself, so it is
skipped (half a million calls in a 100,000-member sync). Every other value is prepared.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import CharField, Field, ForeignKey, ForeignObject, IntegerField, TextField
from django.db.models.fields import AutoFieldMixin
from django.db.models.lookups import In


def _plain_type(field) -> type | None:
    """str or int when the field's get_prep_value and get_db_prep_value(prepared=True) are
    Django's own and return a value of that exact type unchanged (for an integer field
    they only give it the column's driver type: the array gets it once instead)."""
    while isinstance(field, ForeignKey):  # a key's values are its target's
        field = field.target_field
    kind = type(field)
    if kind.get_prep_value in (CharField.get_prep_value, TextField.get_prep_value):
        return str if kind.get_db_prep_value is Field.get_db_prep_value else None
    if kind.get_prep_value is IntegerField.get_prep_value:
        prepare = kind.get_db_prep_value
        return int if prepare in (IntegerField.get_db_prep_value, AutoFieldMixin.get_db_prep_value) else None
    return None


def _all_plain(values, plain: type | None) -> bool:
    return plain is not None and not set(map(type, values)) - {plain, type(None)}


class AnyOf(In):
    lookup_name = "any"

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression") or not self.prepare_rhs:
            return super().get_prep_lookup()
        self.rhs = list(self.rhs)  # read once: it may be a generator
        if _all_plain(self.rhs, _plain_type(self.lhs.output_field)):
            return self.rhs
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        field = self.lhs.output_field
        values = [v for v in dict.fromkeys(self.rhs) if v is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        plain = _plain_type(field)
        if not _all_plain(values, plain):
            values = [field.get_db_prep_value(v, connection, prepared=True) for v in values]
        elif plain is int:  # the array takes the column's type once, not each value its own
            return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", (*lhs_params, values)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookups
