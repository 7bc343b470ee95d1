"""CSV/XLSX import and export of packages and client packages."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from clients.importing import AllOrNothingResource
from clients.models import Client, Location, LocationTier, Tag
from packages.models import ClientPackage, Package


class PackageResource(AllOrNothingResource):
    tags = fields.Field(
        attribute="tags", column_name="tags", widget=ManyToManyWidget(Tag, field="name", separator="|")
    )

    class Meta:
        model = Package
        import_id_fields = ["alt_id"]
        fields = ["alt_id", "name", "kind", "credits", "tags", "is_active"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class ClientPackageResource(AllOrNothingResource):
    client = fields.Field(
        attribute="client", column_name="client", widget=ForeignKeyWidget(Client, field="id")
    )
    package = fields.Field(
        attribute="package", column_name="package", widget=ForeignKeyWidget(Package, field="alt_id")
    )
    location = fields.Field(
        attribute="location", column_name="location",
        widget=ForeignKeyWidget(Location, field="alt_id"),
    )
    tier = fields.Field(
        attribute="tier", column_name="tier", widget=ForeignKeyWidget(LocationTier, field="alt_id")
    )

    class Meta:
        model = ClientPackage
        import_id_fields = ["id"]
        fields = [
            "id", "client", "package", "location", "tier", "start", "end", "status",
            "alt_id", "credits_remaining",
        ]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
