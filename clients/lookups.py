"""`field__any=[...]`: the IN of a page's worth of keys, bound as one array on PostgreSQL.

`IN (%s, %s, ...)` makes the driver quote and splice every value into the SQL text (the
project binds parameters client-side); `= ANY(%s)` sends one array instead, several
times cheaper for the 500 keys of a sync page. Other databases get a plain IN.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=True)
                  for v in dict.fromkeys(self.rhs) if v is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookups
