"""Kisi's syncs, one module each (together they pass the ~400-line mark of one module):

- doors.py   "doors": places, groups and locks -> KisiPlace, KisiGroup and Door
- access.py  "access": push the access Gatehouse computes to Kisi's role assignments
- events.py  "events": unlock events -> door accesses (polling; the webhook shares it)
"""

from integrations.kisi.syncs.access import AccessSync
from integrations.kisi.syncs.doors import DoorsSync
from integrations.kisi.syncs.events import EventsSync, unlock_events_record

__all__ = ["AccessSync", "DoorsSync", "EventsSync", "unlock_events_record"]
