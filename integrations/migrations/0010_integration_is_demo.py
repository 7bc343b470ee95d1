"""Integration.is_demo: `make demo` re-points only the integrations it made.

Those an earlier demo made are recognised as it named them ("<vendor> (sandbox)") and
pointed them (a sandbox on 127.0.0.1); every other integration is the operator's.
"""

from django.db import migrations, models

SANDBOX_HOST = "http://127.0.0.1:"


def demo_integrations_mark(apps, schema_editor):
    integration_model = apps.get_model("integrations", "Integration")
    for integration in integration_model.objects.filter(name__endswith=" (sandbox)"):
        if str((integration.settings or {}).get("base_url", "")).startswith(SANDBOX_HOST):
            integration_model.objects.filter(pk=integration.pk).update(is_demo=True)


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0009_outbox_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="is_demo",
            field=models.BooleanField(default=False, editable=False, verbose_name="made by the demo"),
        ),
        migrations.RunPython(demo_integrations_mark, migrations.RunPython.noop),
    ]
