from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Settings > Integrations"

    def ready(self):
        from integrations import outbox_admin, pending_admin, receivers  # noqa: F401  (admins, receivers)
        from integrations.connectors import connector_classes

        for connector in connector_classes().values():
            connector.on_ready()
