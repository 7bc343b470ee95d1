"""Polling: the poller's every-minute schedule and its trigger (the mark of a run it queued
is SyncState.wake_queued_at, shared with webhooks: 0014)."""

from django.db import migrations, models
from django.utils import timezone

NAME = "gatehouse:poll"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name=NAME, defaults={
        "func": "integrations.tasks.poll_task", "schedule_type": "I", "minutes": 1, "repeats": -1,
        "next_run": timezone.now(), "intended_date_kwarg": "intended"})


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0014_sync_wake_queued"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="syncrun",
            name="trigger",
            field=models.CharField(choices=[
                ("schedule", "Schedule"), ("manual", "Sync now"), ("initial", "Initial sync"),
                ("webhook", "Webhook"), ("command", "Command line"), ("access", "Access change"),
                ("poll", "Change seen"),
            ], default="schedule", max_length=10),
        ),
        migrations.RunPython(schedule_create, schedule_delete),
    ]
