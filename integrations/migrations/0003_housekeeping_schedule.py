"""The daily housekeeping schedule (integrations.housekeeping), created once."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

NAME = "gatehouse:housekeeping"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    first = (timezone.now() + timedelta(days=1)).replace(hour=3, minute=30, second=0, microsecond=0)
    Schedule.objects.get_or_create(name=NAME, defaults={
        "func": "integrations.tasks.housekeeping_task", "schedule_type": "D", "repeats": -1, "next_run": first})


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0002_sync_run_access_trigger"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
