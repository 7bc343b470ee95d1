"""URL map: the admin, staff pages, the member portal, the JSON API and its schema, the
operations probes."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integrations import probes

admin.site.site_header = "Gatehouse"
admin.site.site_title = "Gatehouse"
admin.site.index_title = "Club administration"
# The side menu repeats the home page and takes a quarter of a 1280 px window from every list.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("metrics", probes.metrics, name="metrics"),
    path("staff/", include("staff.urls")),
    path("portal/", include("portal.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("integrations.urls")),
    path("api/v1/", include("clients.urls")),
    path("api/v1/", include("packages.urls")),
    path("api/v1/", include("accessctl.urls")),
]
