"""CSV/XLSX import and export of doors."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget

from accessctl.models import Door
from clients.importing import AllOrNothingResource
from clients.models import Location


class DoorResource(AllOrNothingResource):
    location = fields.Field(
        attribute="location", column_name="location",
        widget=ForeignKeyWidget(Location, field="alt_id"),
    )

    class Meta:
        model = Door
        import_id_fields = ["door_id"]
        fields = ["door_id", "title", "location", "access_control", "kisi_lock_id", "is_active"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
