"""Signals accessctl sends, so higher layers react without accessctl importing them."""

from django.dispatch import Signal

# Sent by accessctl.services.door_accesses_record inside its transaction when it stored
# new door accesses: kwargs `source` (who reported them), `integration_id` (the reporting
# integration, None for Gatehouse's own) and `accesses` (the new rows).
# integrations.receivers wakes the member systems' check-in syncs from it.
door_accesses_recorded = Signal()
