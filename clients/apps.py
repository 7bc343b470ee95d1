from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def cache_table_create(*, using="default", **kwargs):
    """Create the database cache table (settings.CACHES) after migrate; no-op for Redis."""
    call_command("createcachetable", database=using, verbosity=0)


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients and locations"

    def ready(self):
        # DRF's throttles count in the cache; a fresh database must have its table.
        post_migrate.connect(cache_table_create, sender=self, dispatch_uid="clients_cache_table")
