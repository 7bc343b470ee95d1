"""Glofox's own check-in log goes: its rows were carried over to the outbox
(integrations 0008_outbox_carry_over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("glofox", "0002_configuration_booking_window"),
        ("integrations", "0008_outbox_carry_over"),  # its rows are carried over first
    ]

    operations = [
        migrations.DeleteModel(name="CheckinAttempt"),
        migrations.DeleteModel(name="CheckinDelivery"),
    ]
