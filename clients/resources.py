"""CSV/XLSX import and export of locations and clients (django-import-export)."""

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from clients.models import Client, Location, Tag


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_escape(value):
    """Prefix a quote to text a spreadsheet would run as a formula (OWASP CSV injection).

    Numbers such as "-0.4785" stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


class AllOrNothingResource(resources.ModelResource):
    """A resource whose import writes nothing when any row is bad, and whose export is safe
    to open in a spreadsheet.

    Rows are validated as models (field validators and constraints), and a row with a
    validation error rolls the whole file back, not just that row.
    """

    def import_data(self, dataset, **kwargs):
        kwargs.setdefault("rollback_on_validation_errors", True)
        kwargs.setdefault("use_transactions", True)
        return super().import_data(dataset, **kwargs)

    def export_field(self, field, instance, **kwargs):
        return formula_escape(super().export_field(field, instance, **kwargs))


class LocationResource(AllOrNothingResource):
    class Meta:
        model = Location
        import_id_fields = ["alt_id"]
        fields = ["alt_id", "name", "address", "latitude", "longitude", "time_zone", "is_active"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class ClientResource(AllOrNothingResource):
    home_location = fields.Field(
        attribute="home_location", column_name="home_location",
        widget=ForeignKeyWidget(Location, field="alt_id"),
    )
    tags = fields.Field(
        attribute="tags", column_name="tags", widget=ManyToManyWidget(Tag, field="name", separator="|")
    )

    class Meta:
        model = Client
        import_id_fields = ["id"]
        fields = [
            "id", "first_name", "last_name", "email", "phone", "date_of_birth",
            "home_location", "alt_id", "is_active", "tags",
        ]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
