"""Staff pages under /staff/."""

from django.urls import path

from staff import views
from staff.access_log import access_log
from staff.deliveries import delivery_list, delivery_retry

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", views.client_list, name="clients"),
    path("clients/<int:client_id>/", views.client_detail, name="client"),
    path("clients/<int:client_id>/sync/", views.client_sync_now, name="client-sync"),
    path("access-log/", access_log, name="access-log"),
    path("issues/", views.sync_issues, name="issues"),
    path("issues/<int:issue_id>/", views.sync_issue_act, name="issue-act"),
    path("deliveries/", delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/retry/", delivery_retry, name="delivery-retry"),
]
