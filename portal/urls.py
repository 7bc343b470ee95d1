"""The member portal under /portal/."""

from django.urls import path

from portal import doors, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("logout-everywhere", views.logout_everywhere, name="logout-everywhere"),
    path("member-token", views.member_token, name="member-token"),
    path("doors/", doors.doors, name="doors"),
    path("doors/<int:door_id>/confirm", doors.door_confirm, name="door-confirm"),
    path("doors/<int:door_id>/open", doors.door_open, name="door-open"),
    path("doors/attempts/<int:attempt_id>/", doors.attempt, name="attempt"),
]
