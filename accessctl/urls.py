"""The member app's door routes under /api/v1/."""

from django.urls import path

from accessctl.api import DoorListView, DoorUnlockView

urlpatterns = [
    path("doors", DoorListView.as_view(), name="member-doors"),
    path("doors/<int:door_id>/unlock", DoorUnlockView.as_view(), name="member-door-unlock"),
]
