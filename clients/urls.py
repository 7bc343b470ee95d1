"""The member app's token routes under /api/v1/."""

from django.urls import path

from clients.api import LogoutView, TokenRefreshView

urlpatterns = [
    path("auth/refresh", TokenRefreshView.as_view(), name="member-refresh"),
    path("auth/logout", LogoutView.as_view(), name="member-logout"),
]
