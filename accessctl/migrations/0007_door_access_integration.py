"""Door accesses point at the integration that reported them (a foreign key), filled here
for the rows stored before, whose only link was the string `source` ("kisi-12")."""

import django.db.models.deletion
from django.db import migrations, models


def integration_fill(apps, schema_editor):
    """Each integration claims the accesses carrying its key, matched whole (never parsed)."""
    Integration = apps.get_model("integrations", "Integration")
    DoorAccess = apps.get_model("accessctl", "DoorAccess")
    for pk, kind in Integration.objects.values_list("pk", "kind"):
        DoorAccess.objects.filter(source=f"{kind}-{pk}", integration__isnull=True).update(integration_id=pk)


class Migration(migrations.Migration):

    dependencies = [
        ("accessctl", "0006_export_permission"),
        ("integrations", "0006_roles_manager_front_desk"),
    ]

    operations = [
        migrations.AddField(
            model_name="dooraccess",
            name="integration",
            field=models.ForeignKey(
                blank=True, help_text="The integration that reported it.", null=True,
                on_delete=django.db.models.deletion.SET_NULL, related_name="door_accesses",
                to="integrations.integration",
            ),
        ),
        migrations.RunPython(integration_fill, migrations.RunPython.noop),
    ]
