from django.apps import AppConfig


class AccessctlConfig(AppConfig):
    name = "accessctl"
    verbose_name = "Doors and access"

    def ready(self):
        from accessctl import receivers  # noqa: F401  (connects the sequence schedule)
