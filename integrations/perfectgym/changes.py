"""Perfect Gym's answer to the poller (integrations.polling): has anything changed?

Every tracked entity set carries one global, monotonic `version` (the contract's change
tracking), so one call per sync, `$orderby=version desc&$top=1`, says whether a row changed
after the sync's cursor (the largest version it has read).
"""

from functools import cached_property

from integrations.connectors import POLL_HTTP_OPTIONS
from integrations.perfectgym.client import PerfectGymClient


class ChangesPolled:
    """Mixed into PerfectGymConnector: `changes_waiting` for its version-walking syncs."""

    @cached_property
    def changes_client(self) -> PerfectGymClient:
        """One client for the poller's looks (its connection kept between them; short calls)."""
        return PerfectGymClient(base_url=self.settings["base_url"], client_id=self.settings["client_id"],
                                client_secret=self.secrets["client_secret"],
                                **{**self.http_options, **POLL_HTTP_OPTIONS})

    def changes_waiting(self, sync_name: str, cursor) -> bool | None:
        """Whether the sync's entity set holds a version above its cursor; None for a sync
        that does not walk versions."""
        spec = next((spec for spec in self.syncs if spec.name == sync_name), None)
        entity_set = getattr(spec.job, "entity_set", "") if spec else ""
        if not entity_set:
            return None
        return self.changes_client.latest_version(entity_set) > int(cursor or 0)
