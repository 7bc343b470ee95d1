"""URL map: the admin, staff pages, the JSON API and its schema."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "Gatehouse"
admin.site.site_title = "Gatehouse"
admin.site.index_title = "Club administration"
# The side menu repeats the home page and takes a quarter of a 1280 px window from every list.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("staff/", include("staff.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("integrations.urls")),
    path("api/v1/", include("clients.urls")),
    path("api/v1/", include("packages.urls")),
    path("api/v1/", include("accessctl.urls")),
]
