"""Glofox in the admin: configurations inline on the integration (check-ins: Deliveries)."""

from django.contrib import admin

from integrations.glofox.forms import ConfigurationForm, ConfigurationFormSet
from integrations.glofox.models import GlofoxConfiguration


class GlofoxConfigurationInline(admin.StackedInline):
    """Shown on the Glofox integration's page (GlofoxConnector.admin_inlines)."""

    model = GlofoxConfiguration
    form = ConfigurationForm
    formset = ConfigurationFormSet
    extra = 1
    fields = ["branch_id", "kisi_group", "kisi_place", "membership_types", "bookings_enabled",
              ("booking_minutes_before", "booking_minutes_after"), "time_zone"]
    readonly_fields = ["time_zone"]
    verbose_name = "configuration"
    verbose_name_plural = "Configurations (a Glofox location each)"
