"""The roles see the outbox: Manager views deliveries and retries them (change) and reads
their attempts; Front desk views what was sent for a member (a check-in that did not
reach the member system is asked about at the desk), without retrying."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Manager": ["view_delivery", "change_delivery", "view_deliveryattempt"],
    "Front desk": ["view_delivery", "view_deliveryattempt"],
}


def roles_extend(apps, schema_editor):
    using = schema_editor.connection.alias
    config = apps.get_app_config("integrations")
    config.models_module = getattr(config, "models_module", None) or True
    create_permissions(config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group is None:  # an operator removed the role: not made again here
            continue
        found = Permission.objects.using(using).filter(content_type__app_label="integrations",
                                                       codename__in=codenames)
        if found.count() != len(codenames):
            raise LookupError(f"Role {name!r} names permissions that do not exist: {codenames}")
        group.permissions.add(*found)


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0008_outbox_carry_over"),
        ("integrations", "0006_roles_manager_front_desk"),
    ]

    # Going back keeps the permissions: an operator may rely on them since.
    operations = [migrations.RunPython(roles_extend, migrations.RunPython.noop)]
