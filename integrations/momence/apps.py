from django.apps import AppConfig


class MomenceConfig(AppConfig):
    """Momence's own tables: tokens, tag and member mirrors, check-in and tag deliveries."""

    name = "integrations.momence"
    label = "momence"
    verbose_name = "Momence"
    default_auto_field = "django.db.models.BigAutoField"
