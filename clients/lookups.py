"""`field__any=[...]`: the IN of a page's worth of keys, bound as one array on PostgreSQL.

`IN (%s, %s, ...)` makes the driver quote and splice every value into the SQL text (the
project binds parameters client-side); `= ANY(%s)` sends one array instead, several
times cheaper for the 500 keys of a sync page. Other databases get a plain IN.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignKey, ForeignObject, IntegerField
from django.db.models.fields import AutoFieldMixin
from django.db.models.lookups import In

# get_db_prep_value(value, prepared=True) returns the value itself for these (Django's own).
AS_GIVEN = (Field.get_db_prep_value, AutoFieldMixin.get_db_prep_value)


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        field = self.lhs.output_field
        while isinstance(field, ForeignKey):  # a key's values are its target's
            field = field.target_field
        values = [v for v in dict.fromkeys(self.rhs) if v is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prepare = type(field).get_db_prep_value
        if prepare in AS_GIVEN:  # char, text, auto and key fields: nothing to convert
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        if prepare is IntegerField.get_db_prep_value and set(map(type, values)) == {int}:
            # Plain ints: the array is cast to the column's type once, instead of typing each value.
            return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", (*lhs_params, values)
        values = [field.get_db_prep_value(v, connection, prepared=True) for v in values]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookups
