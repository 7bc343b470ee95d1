"""Glofox's answer to the poller (integrations.polling): has anything changed?

The members and bookings lists filter by modified date (`utc_modified_start_date`,
`modified_start_date`), so one call per branch with `limit=1` says whether a record changed
after the sync's last pass began. The client paces these calls at Glofox's 10 requests a
second like every other (integrations.glofox.client).
"""

from functools import cached_property

from integrations.connectors import POLL_HTTP_OPTIONS
from integrations.glofox.client import GlofoxClient
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.syncs import OVERLAP_SECONDS


class ChangesPolled:
    """Mixed into GlofoxConnector: `changes_waiting` for the members and bookings syncs."""

    @cached_property
    def changes_client(self) -> GlofoxClient:
        """One paced client for the poller's looks (its pacing holds from one look to the next;
        short calls)."""
        return self.client(**POLL_HTTP_OPTIONS)

    def changes_waiting(self, sync_name: str, cursor) -> bool | None:
        """Whether a branch holds a member (members) or booking (bookings) modified since the
        sync's last pass began; True for a branch never synced or a pass left unfinished.
        None for the other syncs."""
        if sync_name not in ("members", "bookings"):
            return None
        branches = (GlofoxConfiguration.objects.filter(integration=self.integration,
                                                       kisi_place__location__isnull=False)
                    .values_list("branch_id", flat=True))
        for branch in dict.fromkeys(branches):
            mine = (cursor or {}).get(branch) or {}
            if mine.get("since") is None or "until" in mine or "phase" in mine:
                return True
            # The stored "since" reaches back OVERLAP_SECONDS before the pass began, for the next
            # pass to read again: asking from there would see the last pass's own records.
            began = mine["since"] + OVERLAP_SECONDS
            if sync_name == "members":
                page = self.changes_client.members_page(branch=branch, page=1, modified_from=began, limit=1)
            else:
                page = self.changes_client.bookings_page(branch=branch, page=1, modified_from=began, limit=1)
            if page.records:
                return True
        return False
