"""Momence's own delivery logs go: their rows were carried over to the outbox
(integrations 0008_outbox_carry_over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("momence", "0001_initial"),
        ("integrations", "0008_outbox_carry_over"),  # its rows are carried over first
    ]

    operations = [
        migrations.DeleteModel(name="CheckinDelivery"),
        migrations.DeleteModel(name="TagPush"),
    ]
