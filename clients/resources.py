"""CSV/XLSX import and export of locations and clients (django-import-export)."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from clients.importing import AllOrNothingResource
from clients.models import Client, Location, Tag


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
