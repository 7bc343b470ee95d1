"""The two ready roles, "Manager" and "Front desk" (README: Staff pages > Roles).

The permission lists are frozen here, as every migration's data is. Running it again
(or on a database where a group of that name exists) only adds what is missing: a
permission an operator gave a group by hand stays, and no group is made twice.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")
# Which app each model's permissions belong to, as Permission rows know it.
APPS = ("clients", "packages", "accessctl", "integrations", "glofox", "gladstone", "momence", "axes")


def _perms(app: str, models: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(app, f"{action}_{model}") for model, actions in models.items() for action in actions]


# Everything a gym manager edits: Settings (integrations, doors and their rules, locations,
# tiers, tags, identity types), packages, clients, imports and exports; the logs read-only.
MANAGER = [
    *_perms("clients", {
        "location": (*ALL, "import", "export"), "locationtier": ALL, "identitytype": ALL, "tag": ALL,
        "client": (*ALL, "import", "export"), "clientidentity": ALL, "clienttagchange": ("view",),
    }),
    *_perms("packages", {
        "package": (*ALL, "import", "export"), "clientpackage": (*ALL, "import", "export"), "classsession": ALL,
        "booking": ALL, "creditentry": ("view",), "packagetagorigin": ("view",),
    }),
    *_perms("accessctl", {
        "door": (*ALL, "import", "export", "unlock"), "doorrules": ALL, "visittype": ALL, "visitavailability": ALL,
        "accessrule": ALL, "tagsequence": ALL, "kisiplace": ("change", "view"), "kisigroup": ("change", "view"),
        "sequencegrant": ("view",), "doorsystemuser": ("view",), "dooraccess": ("view",),
        "unlockattempt": ("view",),
    }),
    *_perms("integrations", {
        "integration": ALL, "syncissue": ("change", "view"), "syncrun": ("view",), "webhookevent": ("view",),
        "pendingrecord": ("view",),
    }),
    ("integrations", "retry_client_sync"),
    *_perms("glofox", {"glofoxconfiguration": ALL, "checkindelivery": ("change", "view"),
                       "checkinattempt": ("view",)}),
    *_perms("momence", {"checkindelivery": ("change", "view"), "tagpush": ("change", "view")}),
    # The admin login's lockouts: see who is locked out and unlock them (delete the attempt).
    *_perms("axes", {"accessattempt": ("view", "delete"), "accessfailurelog": ("view",), "accesslog": ("view",)}),
]

# The desk: find a member, see what the doors decided and why, sync that member again.
# No integration (its settings), no settings, no door unlock, no edits, no exports.
FRONT_DESK = [
    *_perms("clients", {"client": ("view",), "clientidentity": ("view",)}),
    *_perms("packages", {"clientpackage": ("view",), "booking": ("view",)}),
    *_perms("accessctl", {"door": ("view",), "dooraccess": ("view",), "unlockattempt": ("view",)}),
    *_perms("integrations", {"syncissue": ("view",), "syncrun": ("view",)}),
    ("integrations", "retry_client_sync"),
]

ROLES = {"Manager": MANAGER, "Front desk": FRONT_DESK}


def roles_create(apps, schema_editor):
    """Make (or complete) both groups with their permissions."""
    using = schema_editor.connection.alias
    for label in APPS:
        config = apps.get_app_config(label)
        # Historical app configs have no models module, and create_permissions skips those.
        config.models_module = getattr(config, "models_module", None) or True
        create_permissions(config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    existing = {(p.content_type.app_label, p.codename): p for p in
                Permission.objects.using(using).filter(content_type__app_label__in=APPS).select_related("content_type")}
    for name, wanted in ROLES.items():
        missing = sorted(set(wanted) - set(existing))
        if missing:  # a typo here must stop the migration, not give a role less than documented
            raise LookupError(f"Role {name!r} names permissions that do not exist: {missing}")
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*[existing[key] for key in wanted])


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("clients", "0006_export_permission"),
        ("packages", "0004_export_permission"),
        ("accessctl", "0006_export_permission"),
        ("integrations", "0005_sync_issue_retry_permission"),
        ("glofox", "0002_configuration_booking_window"),
        ("gladstone", "0002_pending_records_replace_unmatched"),
        ("momence", "0001_initial"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    # Going back keeps the groups: users may have been put in them since.
    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
