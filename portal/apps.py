from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Member portal"

    def ready(self):
        from portal import checks  # noqa: F401 - registers the PORTAL_FRAME_ORIGINS check
