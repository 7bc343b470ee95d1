"""JSON API routes under /api/v1/."""

from django.urls import path

from integrations.views import WebhookView

urlpatterns = [
    path("webhooks/<slug:kind>/<int:integration_id>/", WebhookView.as_view(), name="webhook"),
]
