from django.apps import AppConfig


class GatehouseConfig(AppConfig):
    """The project itself: deploy checks and the admin login's known-device cookie."""

    name = "config"
    label = "gatehouse"
    verbose_name = "Gatehouse"

    def ready(self):
        from config import admin_login, checks  # noqa: F401  (registers the checks and the login receiver)
