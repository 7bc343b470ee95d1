"""The member app's own records under /api/v1/."""

from django.urls import path

from packages.api import MeView

urlpatterns = [
    path("me", MeView.as_view(), name="member-me"),
]
