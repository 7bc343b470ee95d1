"""Operations: worker heartbeats, alerts, outcome counters, and the two every-minute schedules."""

from django.db import migrations, models
from django.utils import timezone

SCHEDULES = {
    "gatehouse:heartbeat": "integrations.tasks.heartbeat_task",
    "gatehouse:alerts": "integrations.tasks.alerts_task",
}


def schedules_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.get_or_create(name=name, defaults={
            "func": func, "schedule_type": "I", "minutes": 1, "repeats": -1, "next_run": timezone.now()})


def schedules_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0011_club_settings_role"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("machine", models.CharField(max_length=200, unique=True)),
                ("beat_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="Alert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=100, unique=True)),
                ("kind", models.CharField(choices=[("failing", "Failing sync"), ("lagging", "Lagging behind the vendor"), ("gave_up", "Deliveries given up"), ("readiness", "Service not ready")], max_length=10)),
                ("active", models.BooleanField(default=False)),
                ("opened_at", models.DateTimeField(blank=True, null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("detail", models.TextField(blank=True, help_text="What the opening e-mail said.")),
                ("integration", models.ForeignKey(blank=True, null=True, on_delete=models.deletion.CASCADE, related_name="alerts", to="integrations.integration")),
            ],
            options={"ordering": ["-opened_at"]},
        ),
        migrations.CreateModel(
            name="OutcomeCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("event", models.CharField(max_length=50)),
                ("outcome", models.CharField(max_length=50)),
                ("count", models.PositiveBigIntegerField(default=0)),
            ],
            options={"constraints": [models.UniqueConstraint(fields=("event", "outcome"), name="outcome_count_once")]},
        ),
        migrations.RunPython(schedules_create, schedules_delete),
    ]
