"""Gladstone's answer to the poller (integrations.polling): has a member changed?

The contract's change feed is a queue per subscriber (systemName), read with
GetMemberChanges and acknowledged with CleanupMemberChanges. The members sync owns its
queue; reading it here would stamp its changes, and the sync's next acknowledgement would
then drop the ones it had not read. So the poller subscribes under a name of its own
(contract.poll_system_name), where Gladstone queues the same changes: a look reads that
queue, acknowledges what it read, and answers yes when it held anything. A new subscriber's
queue starts with every member; the first look drains it (at most MAX_DRAIN_CALLS calls).
"""

import time
from functools import cached_property

from integrations.connectors import POLL_HTTP_OPTIONS
from integrations.gladstone.client import GladstoneClient
from integrations.gladstone.contract import poll_system_name

MAX_DRAIN_CALLS = 100  # a look reads at most this many batches, then says yes and goes on


class ChangesPolled:
    """Mixed into GladstoneConnector: `changes_waiting` for the members sync."""

    poll_run_id = 0  # the poller's last runId (lastRunId of its next read)

    @cached_property
    def changes_client(self) -> GladstoneClient:
        """One client for the poller's looks (its connection kept between them; short calls)."""
        return GladstoneClient(base_url=self.settings["base_url"], app_name=self.settings["app_name"],
                               username=self.settings["username"], password=self.secrets["password"],
                               **{**self.http_options, **POLL_HTTP_OPTIONS})

    def changes_waiting(self, sync_name: str, cursor) -> bool | None:
        """Whether Gladstone queued a member change since the last look; None for the door
        accesses (they are read by date on their schedule)."""
        if sync_name != "members":
            return None
        system_name = poll_system_name(self.settings["system_name"])
        changed = False
        for _ in range(MAX_DRAIN_CALLS):
            # runIds only need to follow one another; the clock keeps them rising across pollers.
            last, self.poll_run_id = self.poll_run_id, max(self.poll_run_id + 1, int(time.time()))
            if not self.changes_client.member_changes(system_name=system_name, last_run_id=last,
                                                      run_id=self.poll_run_id):
                break
            changed = True
            self.changes_client.member_changes_cleanup(system_name=system_name)
        return changed
