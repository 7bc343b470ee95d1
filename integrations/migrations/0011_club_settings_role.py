"""The Manager role edits the club settings members see in the portal (name, logo, colour);
Front desk does not (no settings)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_clubsettings", "change_clubsettings", "add_clubsettings"]


def roles_extend(apps, schema_editor):
    using = schema_editor.connection.alias
    config = apps.get_app_config("clients")
    config.models_module = getattr(config, "models_module", None) or True
    create_permissions(config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(using).filter(name="Manager").first()
    if group is None:  # an operator removed the role: not made again here
        return
    found = Permission.objects.using(using).filter(content_type__app_label="clients", codename__in=CODENAMES)
    if found.count() != len(CODENAMES):
        raise LookupError(f"The Manager role names permissions that do not exist: {CODENAMES}")
    group.permissions.add(*found)


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0010_integration_is_demo"),
        ("clients", "0007_club_settings"),
    ]

    # Going back keeps the permissions: an operator may rely on them since.
    operations = [migrations.RunPython(roles_extend, migrations.RunPython.noop)]
