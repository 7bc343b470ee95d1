"""The example vendor's sync jobs: read pages from the client, map, apply through services.

The engine (integrations.sync) runs a job: it calls pages(cursor), map(record) for each
record, and apply(records) once per page in one transaction, then saves the page's cursor.
A connector's SyncSpec names the job class; the engine builds it.
"""

from clients.models import Client, ClientIdentity
from clients.services import clients_upsert
from integrations.example.client import Member
from integrations.example.mapping import member_record
from integrations.sync import Counts, Page, SyncJob


class MembersSync(SyncJob):
    """Members changed since the last run, by the vendor's change sequence number."""

    written_models = (Client, ClientIdentity)  # their statistics are refreshed as a load grows

    def pages(self, cursor):
        client = self.connector.client()
        for page in client.members(after=cursor or 0, limit=self.options.get("limit", 100)):
            last = max((m.seq for m in page.members), default=cursor or 0)
            yield Page(page.members, cursor=last, total=page.total)

    def record_key(self, raw: Member) -> str:
        return raw.id

    def map(self, raw: Member):
        return member_record(raw)

    def apply(self, records):
        result = clients_upsert(source=self.connector.integration.source, records=records)
        return Counts(created=result.created, updated=result.updated,
                      unchanged=result.unchanged, skipped=result.skipped,
                      changed_clients=result.changed_client_ids)  # wakes the door systems
