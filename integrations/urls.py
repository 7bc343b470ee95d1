"""JSON API routes under /api/v1/."""

from django.urls import path

from integrations.member_api import LoginView, MemberTokenView
from integrations.views import TokenWebhookView, WebhookView

urlpatterns = [
    path("auth/login", LoginView.as_view(), name="member-login"),
    path("auth/member-token", MemberTokenView.as_view(), name="member-token-login"),
    path("webhooks/<slug:kind>/<int:integration_id>/", WebhookView.as_view(), name="webhook"),
    # A vendor that cannot sign its webhooks: the address carries the integration's secret token.
    path("webhooks/<slug:kind>/<int:integration_id>/<str:token>/", TokenWebhookView.as_view(), name="webhook-token"),
]
