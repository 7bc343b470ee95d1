"""Subscriptions without a package move to the framework's back-fill (integrations.pending):
each UnmatchedSubscription becomes a PendingRecord waiting for a package, then the model goes."""

from django.db import migrations


def unmatched_to_pending(apps, schema_editor):
    unmatched = apps.get_model("gladstone", "UnmatchedSubscription")
    pending = apps.get_model("integrations", "PendingRecord")
    rows = [
        pending(
            integration_id=row.integration_id, client_id=row.client_id, reference=row.subscription_ref,
            package_wanted=row.sub_type_id,
            # The characters 5-6 name the tier when the 5th is 0 (integrations.gladstone.mapping.tier_alt_id).
            tier_wanted=row.sub_type_id[4:6] if len(row.sub_type_id) >= 6 and row.sub_type_id[4] == "0" else "",
            waits_for="package", seen_at=row.seen_at,
            record={"start": row.start.isoformat(), "end": None, "status": "active", "location_id": None,
                    "credits_remaining": None, "credits_when": ""},
        )
        for row in unmatched.objects.all()
    ]
    pending.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def pending_to_unmatched(apps, schema_editor):
    unmatched = apps.get_model("gladstone", "UnmatchedSubscription")
    pending = apps.get_model("integrations", "PendingRecord")
    gladstone = pending.objects.filter(integration__kind="gladstone", waits_for="package").select_related("client")
    unmatched.objects.bulk_create([
        unmatched(integration_id=row.integration_id, client_id=row.client_id,
                  member_id=row.client.external_id or "", subscription_ref=row.reference,
                  sub_type_id=row.package_wanted, start=row.record["start"], seen_at=row.seen_at)
        for row in gladstone
    ], ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("gladstone", "0001_initial"),
        ("integrations", "0004_pending_records"),
    ]

    operations = [
        migrations.RunPython(unmatched_to_pending, pending_to_unmatched),
        migrations.DeleteModel(name="UnmatchedSubscription"),
    ]
